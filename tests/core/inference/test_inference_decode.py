"""Reading photos for a model: reduced JPEG decoding and EXIF orientation."""

import numpy as np
import pytest
from PIL import Image, ImageOps

from viewer.core.errors import ReadError
from viewer.core.images import read_image
from viewer.core.inference.decode import orient, read_for_model


def quadrants(height=40, width=64):
    image = np.zeros((height, width, 3), np.uint8)
    image[: height // 2, : width // 2] = (255, 0, 0)
    image[: height // 2, width // 2:] = (0, 255, 0)
    image[height // 2:, : width // 2] = (0, 0, 255)
    image[height // 2:, width // 2:] = (255, 255, 255)
    return image


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orient_matches_pillow(orientation):
    pixels = np.random.default_rng(orientation).integers(0, 256, (4, 6, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    image.getexif()[0x0112] = orientation
    np.testing.assert_array_equal(orient(pixels, orientation),
                                  np.asarray(ImageOps.exif_transpose(image)))


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_reduced_jpeg_is_oriented_like_the_full_photo(tmp_path, orientation):
    path = tmp_path / "photo.jpg"
    image = Image.fromarray(quadrants(160, 256))
    exif = image.getexif()
    exif[0x0112] = orientation
    image.save(path, exif=exif, quality=95)
    full = read_image(path)
    photo = read_for_model(path, (16, 16))
    assert photo.full_size == full.shape[:2]
    assert photo.reduced and photo.image.shape[:2] == (full.shape[0] // 8, full.shape[1] // 8)
    small = np.asarray(Image.fromarray(full).reduce(8), np.int64)
    assert np.abs(photo.image.astype(np.int64) - small).mean() < 8


def test_reduction_keeps_the_model_size(tmp_path):
    path = tmp_path / "photo.jpg"
    Image.fromarray(quadrants(1080, 1920)).save(path, quality=90)
    assert read_for_model(path, (257, 257)).image.shape == (270, 480, 3)
    assert read_for_model(path, (300, 300)).image.shape == (540, 960, 3)
    assert read_for_model(path, (2000, 2000)).image.shape == (1080, 1920, 3)
    assert not read_for_model(path, None).reduced


def test_other_formats_are_read_fully(tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(quadrants()).save(path)
    photo = read_for_model(path, (8, 8))
    assert not photo.reduced and photo.image.shape == (40, 64, 3)
    named_jpeg = tmp_path / "really_a_png.jpg"
    named_jpeg.write_bytes(path.read_bytes())
    assert read_for_model(named_jpeg, (8, 8)).image.shape == (40, 64, 3)


def test_truncated_jpeg_is_a_read_error(tmp_path):
    path = tmp_path / "cut.jpg"
    Image.fromarray(quadrants(400, 640)).save(path, quality=90)
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(ReadError, match="cut.jpg: cannot decode image"):
        read_for_model(path, (16, 16))


def test_a_jpeg_with_a_trailer_is_decoded_by_pillow_alike(tmp_path):
    plain = tmp_path / "plain.jpg"
    Image.fromarray(quadrants(320, 512)).save(plain, quality=95)
    trailer = tmp_path / "trailer.jpg"
    trailer.write_bytes(plain.read_bytes() + b"MOTION-PHOTO-VIDEO" * 10)
    fast = read_for_model(plain, (32, 32))
    slow = read_for_model(trailer, (32, 32))
    assert fast.reduced and slow.reduced
    assert fast.image.shape == slow.image.shape == (40, 64, 3)
    assert np.abs(fast.image.astype(int) - slow.image.astype(int)).max() <= 2


def test_a_large_png_is_reduced_by_pillow_before_it_becomes_rgb(tmp_path):
    # 8000x7000 = 56 Mpx, above LARGE_PHOTO_PIXELS: decoded whole it would pass through
    # Pillow's 4-bytes-a-pixel RGB only for the model to average it away.
    from PIL import Image

    from viewer.core.inference.decode import LARGE_PHOTO_PIXELS, read_for_model

    grey = np.zeros((7000, 8000), np.uint8)
    grey[:, 4000:] = 200
    path = tmp_path / "big.png"
    Image.fromarray(grey).save(path)
    assert 8000 * 7000 > LARGE_PHOTO_PIXELS
    photo = read_for_model(path, (256, 256))
    assert photo.reduced and photo.full_size == (7000, 8000)
    assert photo.image.shape == (875, 1000, 3) and photo.image.dtype == np.uint8
    assert (photo.image[:, :499] == 0).all() and (photo.image[:, 501:] == 200).all()


def test_a_small_png_is_still_read_whole(tmp_path):
    from PIL import Image

    from viewer.core.inference.decode import read_for_model

    path = tmp_path / "small.png"
    Image.fromarray(np.full((300, 400, 3), 7, np.uint8)).save(path)
    photo = read_for_model(path, (256, 256))
    assert not photo.reduced and photo.image.shape == (300, 400, 3)


@pytest.mark.parametrize("keep", [60, 2000])
def test_a_truncated_large_png_is_a_read_error(tmp_path, keep):
    from viewer.core.inference.decode import read_for_model

    path = tmp_path / "big.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (7000, 8000), np.uint8)).save(
        path, compress_level=1)
    path.write_bytes(path.read_bytes()[:keep])
    with pytest.raises(ReadError, match="big.png"):
        read_for_model(path, (256, 256))
