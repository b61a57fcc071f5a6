"""preprocess.random_crop_varying: random crops of a batch of images of different sizes."""
import numpy as np
import pytest
import tensorflow as tf

from gans.data import preprocess
from gans.errors import UserError

SHAPES = [(10, 12, 3), (7, 9, 3), (5, 5, 3)]


def _images():
  """Images whose every pixel value is distinct, so that a crop tells where it was taken."""
  out, start = [], 0
  for shape in SHAPES:
    n = int(np.prod(shape))
    out.append(np.arange(start, start + n, dtype=np.int32).reshape(shape))
    start += n
  return out


def _corner(image, crop):
  """The (row, col) at which `crop` lies in `image` (asserts there is exactly one)."""
  size = crop.shape[0]
  hits = [(r, c) for r in range(image.shape[0] - size + 1) for c in range(image.shape[1] - size + 1)
          if np.array_equal(image[r:r + size, c:c + size], crop)]
  assert len(hits) == 1
  return hits[0]


def _seed(a, b=0):
  return tf.constant([a, b], tf.int64)


def test_crops_of_a_ragged_batch_lie_inside_each_image():
  images = _images()
  op = preprocess.build("random_crop_varying(5)")
  crops = op(tf.ragged.constant(images, ragged_rank=2), _seed(1)).numpy()
  assert crops.shape == (3, 5, 5, 3)
  for image, crop in zip(images, crops):
    _corner(image, crop)
  np.testing.assert_array_equal(crops, op(tf.ragged.constant(images, ragged_rank=2), _seed(1)).numpy())
  assert _corner(images[2], crops[2]) == (0, 0)  # as large as the crop: the whole image


def test_crop_corners_are_uniform_over_the_positions():
  image = _images()[1]  # 7 x 9: 3 x 5 positions of a 5 x 5 crop
  batch = tf.constant(np.repeat(image[None], 1500, axis=0))  # a dense batch works as well
  crops = preprocess.build("random_crop_varying(5)")(batch, _seed(2)).numpy()
  counts = np.zeros((3, 5))
  for crop in crops:
    counts[_corner(image, crop)] += 1
  assert counts.min() > 0.6 * 100 and counts.max() < 1.4 * 100  # 100 expected per position


def test_in_a_tf_data_pipeline_of_ragged_batches():
  images = _images()
  ds = tf.data.Dataset.from_generator(lambda: iter(images),
                                      output_signature=tf.TensorSpec([None, None, 3], tf.int32))
  op = preprocess.build("random_crop_varying(4)|value_range(-1,1)")
  batch = next(iter(ds.ragged_batch(3).map(lambda x: op(x, _seed(3)))))
  assert batch.shape == (3, 4, 4, 3) and batch.dtype == tf.float32


def test_too_small_images_and_bad_sizes_are_errors():
  crop = tf.function(preprocess.build("random_crop_varying(6)"))
  with pytest.raises(tf.errors.InvalidArgumentError, match="smaller than 6 x 6"):
    crop(tf.ragged.constant(_images(), ragged_rank=2), _seed(0))
  with pytest.raises(UserError, match="positive size"):
    preprocess.build("random_crop_varying(0)")
