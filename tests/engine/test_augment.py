import numpy as np
import pytest

from mlp_engine import TrainConfig, Trainer
from mlp_engine.augment import affine_batch, augment_batch
from mlp_engine.data import synthetic_dataset


def square(r0, c0, size=6):
    img = np.zeros((28, 28), dtype=np.float32)
    img[r0 : r0 + size, c0 : c0 + size] = 255
    return img.reshape(1, -1)


def centre_of_mass(img):
    img = img.reshape(28, 28)
    r, c = np.indices(img.shape)
    return (r * img).sum() / img.sum(), (c * img).sum() / img.sum()


def test_identity_warp_returns_the_image():
    x = np.random.default_rng(0).integers(0, 256, (3, 784)).astype(np.uint8)
    out = affine_batch(x, np.zeros(3), np.ones(3), np.zeros((3, 2)))
    np.testing.assert_allclose(out, x, atol=1e-3)


def test_integer_shift_moves_the_ink_exactly():
    out = affine_batch(square(10, 10), np.zeros(1), np.ones(1), np.array([[3.0, -2.0]]))
    np.testing.assert_allclose(out, square(13, 8), atol=1e-3)


def test_rotation_by_90_degrees_about_the_centre():
    img = square(4, 11)  # top middle
    out = affine_batch(img, np.array([np.pi / 2]), np.ones(1), np.zeros((1, 2)))
    r, c = centre_of_mass(out)
    r0, c0 = centre_of_mass(img)
    # a quarter turn keeps the distance to the centre and moves the mass off the top edge
    assert np.hypot(r - 13.5, c - 13.5) == pytest.approx(np.hypot(r0 - 13.5, c0 - 13.5), abs=0.3)
    assert abs(r - 13.5) < 0.5


def test_scaling_keeps_the_centre_and_grows_the_ink():
    img = square(11, 11)
    out = affine_batch(img, np.zeros(1), np.array([1.5]), np.zeros((1, 2)))
    assert centre_of_mass(out) == pytest.approx(centre_of_mass(img), abs=0.1)
    assert out.sum() == pytest.approx(img.sum() * 1.5**2, rel=0.1)


@pytest.mark.parametrize("kind", ["shift", "affine"])
def test_augment_batch_is_vectorised_seeded_and_in_range(kind):
    cfg = TrainConfig(augment=kind, augment_shift=2, augment_rotate=15, augment_scale=0.1)
    x = np.tile(square(10, 10), (64, 1)).astype(np.uint8)
    a = augment_batch(x, np.random.default_rng(1), cfg)
    b = augment_batch(x, np.random.default_rng(1), cfg)
    np.testing.assert_array_equal(a, b)
    assert a.shape == x.shape and a.dtype == np.float32
    assert a.min() >= 0 and a.max() <= 255
    assert len({row.tobytes() for row in a}) > 10  # images differ from each other


def test_training_with_augmentation_learns():
    data = synthetic_dataset(n_train=256, n_test=64, seed=0)
    cfg = TrainConfig(dataset="synthetic", hidden=(32,), epochs=4, batch_size=32, lr=0.05, preprocess="scale", augment="affine")
    hist = Trainer(cfg, data).fit()
    assert hist[-1].test_acc > 0.8


def test_flip_mirrors_about_half_of_the_images():
    cfg = TrainConfig(augment="shift", augment_shift=0, augment_flip=True)
    x = np.tile(square(10, 2), (200, 1)).astype(np.uint8)
    out = augment_batch(x, np.random.default_rng(3), cfg)
    mirrored = np.all(np.isclose(out, square(10, 20)), axis=1)
    same = np.all(np.isclose(out, x), axis=1)
    assert (mirrored | same).all()
    assert 70 < mirrored.sum() < 130


def test_whole_pixel_shift_agrees_with_the_affine_warp():
    from mlp_engine.augment import shift_batch

    x = np.random.default_rng(0).integers(0, 256, (20, 784)).astype(np.uint8)
    s = np.random.default_rng(1).integers(-3, 4, (20, 2)).astype(np.float32)
    np.testing.assert_allclose(shift_batch(x, s), affine_batch(x, np.zeros(20), np.ones(20), s), atol=1e-3)
