"""Imitation learning: behaviour cloning on (masked) demo frames, and live evaluation in
every visual setting with the segmenter in the loop."""
