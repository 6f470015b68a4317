"""Other people's demonstration datasets in and out of samg stores: LeRobot v3.0,
robomimic HDF5, diffusion_policy's zarr ReplayBuffer (one module per format)."""
