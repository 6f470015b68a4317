import numpy as np
import pytest
import torch

from tests.segmenter.helpers import tiny_backends


@pytest.mark.parametrize("sam_name", ["efficientvit-l1", "sam-vit-b"])
def test_batched_decode_matches_the_stock_predictor(sam_name):
    sam, _ = tiny_backends(sam_name)
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (3, 84, 84, 3), dtype=np.uint8)
    points = rng.integers(0, 84, (3, 4, 2))
    labels = np.array([[1, 0, 1, 1]] * 3)
    boxes = np.array([[5, 6, 70, 80], [0, 0, 83, 83], [10, 20, 30, 40]])
    mask_input = rng.normal(size=(3, 1, 256, 256)).astype(np.float32)
    predictor = sam.predictor()
    expected = []
    for i in range(3):
        predictor.set_image(frames[i])
        expected.append(
            predictor.predict(
                point_coords=points[i].astype(float), point_labels=labels[i], box=boxes[i],
                mask_input=mask_input[i], multimask_output=True, return_logits=True,
            )  # fmt: skip
        )
    with torch.inference_mode():
        low, scores = sam.decoder.decode(
            sam.encode(frames), torch.as_tensor(points), torch.as_tensor(labels), (84, 84),
            boxes=torch.as_tensor(boxes), mask_input=torch.as_tensor(mask_input),
        )  # fmt: skip
        full = sam.decoder.to_image(low, (84, 84))
    for i, (logits, iou, low_res) in enumerate(expected):
        np.testing.assert_allclose(low[i].numpy(), np.asarray(low_res), atol=1e-4)
        np.testing.assert_allclose(scores[i].numpy(), np.asarray(iou), atol=1e-5)
        np.testing.assert_allclose(full[i].numpy(), np.asarray(logits), atol=1e-4)  # the 1024 path, exactly


@pytest.mark.parametrize("with_box", [False, True])
def test_prompt_encoding_without_boolean_indexing_equals_the_stock_encoder(with_box):
    from samg.segmenter.decoder import _encode_prompts

    sam, _ = tiny_backends("efficientvit-l1")
    encoder = sam.model.prompt_encoder
    generator = torch.Generator().manual_seed(0)
    coords = torch.rand(3, 5, 2, generator=generator) * 1024
    labels = torch.tensor([[1, 0, 1, 1, 0], [1, 1, 1, 1, 0], [0, 0, 1, 0, 1]])
    boxes = torch.tensor([[5.0, 6, 700, 800], [0, 0, 1023, 1023], [100, 200, 300, 400]]) if with_box else None
    masks = torch.randn(3, 1, 256, 256, generator=generator) if with_box else None
    with torch.inference_mode():
        expected = encoder(points=(coords, labels), boxes=boxes, masks=masks)
        ours = _encode_prompts(encoder, coords, labels, boxes, masks)
    assert ours[0].shape == expected[0].shape == (3, 5 + (2 if with_box else 1), 256)
    assert torch.equal(ours[0], expected[0]) and torch.equal(ours[1], expected[1])
