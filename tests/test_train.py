"""Models, augmentation, split and scoring of the training stage; one short real training run."""

from __future__ import annotations

import json

import numpy as np
import pytest

from digitedge.errors import DigitEdgeError
from digitedge.train import augment
from digitedge.train.config import TrainConfig
from digitedge.train.data import MnistData

keras = pytest.importorskip("keras", reason="training tests need the [train] extra")
tf = pytest.importorskip("tensorflow", reason="training tests need the [train] extra")

from digitedge.train import models, trainer  # noqa: E402 - only with TensorFlow installed

# ---------------------------------------------------------------- augmentation (numpy only)


@pytest.mark.parametrize("name", list(augment.PRESETS))
def test_presets_keep_shape_dtype_range_and_input(sample: MnistData, name: str) -> None:
    images = sample.x_train[:200]
    before = images.copy()
    out = augment.augment_batch(images, np.random.default_rng(0), augment.get_params(name))
    assert out.shape == images.shape and out.dtype == np.uint8
    assert out is not images
    np.testing.assert_array_equal(images, before)  # the caller's batch is never modified
    # Still digits: ink stays in a plausible range and most of it stays on the canvas.
    assert out.max() > 200
    ratio = out.reshape(200, -1).sum(1) / images.reshape(200, -1).sum(1)
    assert np.median(ratio) == pytest.approx(1.0, abs=0.25)
    if name == "none":
        np.testing.assert_array_equal(out, images)
    else:
        assert np.mean(out != images) > 0.05


@pytest.mark.parametrize("name", ["shift-rotate", "camera"])
def test_presets_repeat_for_a_seed(sample: MnistData, name: str) -> None:
    params = augment.get_params(name)
    images = sample.x_train[:64]
    first = augment.augment_batch(images, np.random.default_rng(5), params)
    again = augment.augment_batch(images, np.random.default_rng(5), params)
    other = augment.augment_batch(images, np.random.default_rng(6), params)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_affine_with_zero_ranges_is_identity(sample: MnistData, rng) -> None:
    images = sample.x_train[:32]
    np.testing.assert_array_equal(augment.affine(images, rng, 0.0, 0.0, 0.0), images)


def test_affine_shift_moves_the_centre_of_mass(rng) -> None:
    image = np.zeros((1, 28, 28), np.uint8)
    image[0, 10:18, 12:16] = 255
    moved = augment.affine(image, rng, max_shift=3.0, max_rotate=0.0, max_scale=0.0)
    ys, xs = np.nonzero(moved[0] > 127)
    assert abs(xs.mean() - 13.5) <= 3.01 and abs(ys.mean() - 13.5) <= 3.01
    assert moved[0].sum() == pytest.approx(image[0].sum(), rel=0.05)


def test_affine_shear_slants_verticals_and_keeps_rows_level(rng) -> None:
    bars = np.zeros((64, 28, 28), np.uint8)
    bars[:, 6:22, 13:15] = 255  # an upright stroke
    slanted = augment.affine(bars, rng, 0.0, 0.0, 0.0, max_shear=0.3)
    leans = []
    for image in slanted:
        ys, xs = np.nonzero(image > 127)
        assert ys.min() == 6 and ys.max() == 21  # a shear keeps every row where it was
        leans.append(xs[ys == ys.max()].mean() - xs[ys == ys.min()].mean())
    assert max(np.abs(leans)) <= 0.3 * 15 + 1 and min(leans) < -1 < 1 < max(leans)


def test_slant_draws_nothing_for_presets_without_it(sample: MnistData) -> None:
    # "reader" trained the bundled models before shear existed: without shear, affine must
    # draw exactly what it drew then (angles, scales, shifts), so those runs reproduce
    images = sample.x_train[:16]
    used = np.random.default_rng(2)
    augment.affine(images, used, 1.5, 10.0, 0.08)
    expected = np.random.default_rng(2)
    for size in (16, 16, (16, 2)):
        expected.uniform(size=size)
    assert used.random() == expected.random()
    assert augment.PRESETS["reader"].max_shear == 0
    assert augment.PRESETS["reader-slant"].max_shear > 0


def test_thickness_dilates_or_erodes(sample: MnistData, rng) -> None:
    images = sample.x_train[:100]
    out = augment.thickness(images, rng, prob=1.0)
    ink_before = (images > 127).reshape(100, -1).sum(1)
    ink_after = (out > 127).reshape(100, -1).sum(1)
    assert (ink_after > ink_before).any() and (ink_after < ink_before).any()
    assert (out.reshape(100, -1).max(1) >= 128).all()  # no digit erased to a blank
    np.testing.assert_array_equal(augment.thickness(images, rng, prob=0.0), images)


def test_blur_softens_edges_but_keeps_ink(sample: MnistData, rng) -> None:
    images = sample.x_train[:50]
    out = augment.blur(images, rng, prob=1.0, max_sigma=1.0)
    assert (out == 255).sum() < (images == 255).sum()
    assert out.astype(float).sum() == pytest.approx(images.astype(float).sum(), rel=0.05)


def test_elastic_changes_shape_locally(sample: MnistData, rng) -> None:
    images = sample.x_train[:50]
    out = augment.elastic(images, rng, prob=1.0, alpha=34.0, sigma=4.0)
    changed = np.mean(out != images, axis=(1, 2))
    assert (changed > 0.02).all()
    np.testing.assert_array_equal(augment.elastic(images, rng, 0.0, 34.0, 4.0), images)


def test_augment_refuses_wrong_input_and_names(rng) -> None:
    with pytest.raises(ValueError, match="uint8"):
        augment.augment_batch(np.zeros((2, 28, 28), np.float32), rng, None)
    with pytest.raises(DigitEdgeError, match="shift-rotate"):
        augment.get_params("sideways")


# ---------------------------------------------------------------- config, split, scoring


def test_config_validates_and_serializes() -> None:
    record = TrainConfig(hidden=(256, 128)).to_dict()
    assert json.loads(json.dumps(record))["hidden"] == [256, 128]
    for bad in ({"arch": "rnn"}, {"augment": "tilt"}, {"hidden": ()}, {"epochs": 0},
                {"dropout": 1.0}, {"learning_rate": 0.0}, {"outliers": -0.1}, {"outliers": 1.5}):
        with pytest.raises(DigitEdgeError):
            TrainConfig(**bad)


def test_split_is_disjoint_seeded_and_capped() -> None:
    split = trainer.split_validation(60_000, 5000, seed=3)
    assert len(split.val) == 5000 and len(split.train) == 55_000
    assert not np.intersect1d(split.train, split.val).size
    assert np.array_equal(np.union1d(split.train, split.val), np.arange(60_000))
    assert np.array_equal(split.val, trainer.split_validation(60_000, 5000, seed=3).val)
    assert not np.array_equal(split.val, trainer.split_validation(60_000, 5000, seed=4).val)
    assert len(trainer.split_validation(3000, 5000, seed=0).val) == 300


def test_score_probabilities_by_hand() -> None:
    probs = np.full((4, 10), 0.01, np.float32)
    for row, label in enumerate([3, 3, 5, 7]):
        probs[row, label] = 0.91
    labels = np.array([3, 3, 5, 1])
    scored = trainer.score_probabilities(probs, labels)
    assert scored.accuracy == 0.75
    assert scored.confusion[3, 3] == 2 and scored.confusion[1, 7] == 1
    assert scored.confusion.sum() == 4
    assert scored.per_class_accuracy[1] == 0.0 and scored.per_class_accuracy[3] == 1.0
    assert scored.per_class_accuracy[0] == 0.0  # absent class: no division by zero
    expected = -(3 * np.log(0.91) + np.log(0.01)) / 4
    assert scored.loss == pytest.approx(expected, rel=1e-5)


def test_batches_are_float_pixels_and_repeat_for_a_seed(sample: MnistData) -> None:
    params = augment.get_params("shift-rotate")
    x, y = sample.x_train[:300], sample.y_train[:300]
    batches = trainer.AugmentedBatches(x, y, 128, params, seed=1)
    assert len(batches) == 3
    images, targets = batches[2]
    assert images.shape == (44, 28, 28) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 255.0 and targets.shape == (44, 10)
    np.testing.assert_array_equal(targets.argmax(axis=1), y[batches._order[256:]])
    again = trainer.AugmentedBatches(x, y, 128, params, seed=1)
    np.testing.assert_array_equal(batches[0][0], again[0][0])
    first = batches[0][0]
    batches.on_epoch_end()
    assert not np.array_equal(first, batches[0][0])  # a new epoch sees new digits


def test_outlier_exposure_adds_non_digits_with_uniform_targets(sample: MnistData) -> None:
    from digitedge.train.outliers import make_outliers

    x, y = sample.x_train[:300], sample.y_train[:300]
    pool = make_outliers(x, np.random.default_rng(0), 50)
    batches = trainer.AugmentedBatches(x, y, 128, None, seed=1, pool=pool, per_batch=32)
    images, targets = batches[0]
    assert images.shape == (160, 28, 28) and targets.shape == (160, 10)
    np.testing.assert_allclose(targets.sum(axis=1), 1.0)
    assert (targets[:128].max(axis=1) == 1.0).all()  # the digits: one-hot
    np.testing.assert_allclose(targets[128:], 0.1)  # the outliers: uniform
    assert all(any(np.array_equal(im, p) for p in pool) for im in images[128:].astype(np.uint8))


# ---------------------------------------------------------------- models


@pytest.mark.parametrize(
    ("config", "name"),
    [(TrainConfig(), "mlp_512"), (TrainConfig(hidden=(256, 128)), "mlp_256_128"),
     (TrainConfig(arch="cnn"), "cnn_32_64_128"),
     (TrainConfig(arch="cnn-deep"), "cnn_deep_32_64_128")],
)
def test_models_take_raw_pixels_and_give_probabilities(sample: MnistData, config: TrainConfig,
                                                       name: str) -> None:
    model = models.build_model(config)
    assert model.name == name
    assert tuple(model.input_shape) == (None, 28, 28)
    assert tuple(model.output_shape) == (None, 10)
    probs = model.predict(sample.x_test[:16].astype(np.float32), verbose=0)
    assert probs.shape == (16, 10)
    assert (probs >= 0).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_mlp_hidden_widths() -> None:
    model = models.build_mlp((256, 128), dropout=0.0)
    widths = [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert widths == [256, 128, 10]
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in model.layers)


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["mlp", "cnn", "cnn-deep"])
def test_models_convert_to_full_integer_tflite(sample: MnistData, arch: str) -> None:
    """Only builtin int8 ops: the converter fails if any layer cannot be fully quantized."""
    from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415

    model = models.build_model(TrainConfig(arch=arch, hidden=(64,)))
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: (
        [sample.x_train[i:i + 1].astype(np.float32)] for i in range(20)
    )
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    interpreter = Interpreter(model_content=converter.convert())
    assert interpreter.get_input_details()[0]["dtype"] == np.int8
    assert interpreter.get_output_details()[0]["dtype"] == np.int8
    tensor_types = {d["dtype"] for d in interpreter.get_tensor_details()}
    assert np.float32 not in tensor_types  # full integer: no float tensor left


# ---------------------------------------------------------------- a real (short) training run


def test_short_training_beats_chance_widely(sample: MnistData) -> None:
    config = TrainConfig(hidden=(128,), epochs=3, augment="none", batch_size=64, seed=0)
    result = trainer.train(sample, config, verbose=0)
    assert result.test.accuracy >= 0.80, f"test accuracy {result.test.accuracy:.3f} < 0.80"
    assert result.epochs_run == 3 and 1 <= result.best_epoch <= 3
    assert set(result.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert result.test.confusion.sum() == len(sample.y_test) == 1000
    assert len(result.split.train) + len(result.split.val) == len(sample.x_train)
    best = max(result.history["val_accuracy"])
    assert result.history["val_accuracy"][result.best_epoch - 1] == best
