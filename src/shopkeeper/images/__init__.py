"""Product images: categorise product photos and find visually similar products.

>>> from shopkeeper.images import analyse, load_image_model          # doctest: +SKIP
>>> model = analyse(photos, products)              # photo table + catalog, trains
>>> model.mismatches(20)                           # stated category vs the picture
>>> model.similar("SKU-10023", 10)                 # products that look alike

Training and classifying new photos need PyTorch (``pip install
'shopkeeper[vision]'``), imported only when a network runs; reading photos,
Fashion-MNIST, neighbour search and serving a trained model's similar
products, mismatches and suggestions do not. See docs/images.md.
"""

from shopkeeper.images._analysis import (
    AGREES,
    ARTIFACT,
    DISAGREES,
    MISMATCH,
    STATUSES,
    UNKNOWN,
    UNLABELLED,
    ImageModel,
    ImageReport,
    ImageSettings,
    analyse,
    load_image_model,
)
from shopkeeper.images._calibrate import (
    confusion_matrix,
    expected_calibration_error,
    fit_temperature,
    softmax,
)
from shopkeeper.images._classifier import (
    ImageClassifier,
    NetworkSettings,
    normalise,
    train_classifier,
)
from shopkeeper.images._fashion import (
    FASHION_CLASSES,
    fashion_mnist_available,
    fashion_mnist_folder,
    load_fashion_mnist,
)
from shopkeeper.images._neighbours import (
    EXACT_LIMIT,
    ApproximateIndex,
    Neighbours,
    approximate_neighbours,
    exact_neighbours,
    nearest_neighbours,
)
from shopkeeper.images._pixels import (
    ImageBatch,
    ImageSource,
    image_to_array,
    read_image,
    read_images,
)
from shopkeeper.images._recommend import VisualSimilarity
from shopkeeper.images._source import load_product_images
from shopkeeper.images._torch import INSTALL, require_torch, torch_available

__all__ = [
    "AGREES",
    "ARTIFACT",
    "DISAGREES",
    "EXACT_LIMIT",
    "FASHION_CLASSES",
    "INSTALL",
    "MISMATCH",
    "STATUSES",
    "UNKNOWN",
    "UNLABELLED",
    "ApproximateIndex",
    "ImageBatch",
    "ImageClassifier",
    "ImageModel",
    "ImageReport",
    "ImageSettings",
    "ImageSource",
    "Neighbours",
    "NetworkSettings",
    "VisualSimilarity",
    "analyse",
    "approximate_neighbours",
    "confusion_matrix",
    "exact_neighbours",
    "expected_calibration_error",
    "fashion_mnist_available",
    "fashion_mnist_folder",
    "fit_temperature",
    "image_to_array",
    "load_fashion_mnist",
    "load_image_model",
    "load_product_images",
    "nearest_neighbours",
    "normalise",
    "read_image",
    "read_images",
    "require_torch",
    "softmax",
    "torch_available",
    "train_classifier",
]
