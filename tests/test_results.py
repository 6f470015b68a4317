from samg.results import bin_counts, success_by_param


def test_bin_counts_splits_the_range_in_equal_bins():
    values = [0.10, 0.12, 0.1375, 0.15, 0.2, 0.25, 0.3, 0.0]
    wins = [True, False, True, True, False, True, True, False]
    # bins [0.1, 0.1375) [0.1375, 0.175) [0.175, 0.2125) [0.2125, 0.25]; 0.3 and 0.0 go to the end bins
    assert bin_counts(values, wins, 0.1, 0.25) == [[1, 3], [2, 2], [0, 1], [2, 2]]
    assert bin_counts([], [], 0.0, 1.0, bins=2) == [[0, 0], [0, 0]]


def test_success_by_param_counts_per_setting():
    episodes = [
        {"setting": "train", "success": True, "params": {"h": 0.1}},
        {"setting": "train", "success": False, "params": {"h": 0.9}},
        {"setting": "video_hard", "success": True, "params": {"h": 0.6}},
    ]
    table = success_by_param(episodes, ("train", "video_hard"), {"h": {"range": [0.0, 1.0]}})
    assert table["h"]["edges"] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert table["h"]["by_setting"] == {"train": [[1, 1], [0, 0], [0, 0], [0, 1]], "video_hard": [[0, 0], [0, 0], [1, 1], [0, 0]]}
