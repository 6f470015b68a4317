"""Online RL (DrQ-v2) whose observations pass through the same segmenter as the offline pipeline."""
