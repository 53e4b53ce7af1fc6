"""BRISQUE (Mittal, Moorthy & Bovik 2012) with OpenCV's LIVE model files, offline.

The scores are OpenCV contrib's ``cv2.quality.QualityBRISQUE`` (0 best .. 100 worst) on the model
files Debian's ``opencv-data`` installs in ``/usr/share/opencv4/quality``. The opencv wheel LiveGuard
installs (``opencv-python-headless``, which rapidocr requires) has no ``quality`` module, and the
contrib wheel would overwrite the same ``cv2`` package, so without contrib this module computes the
same 36 features (MSCN coefficients and their pairwise products at two scales, each fitted with an
asymmetric generalised Gaussian) and evaluates the same RBF support-vector regressor from the model
file with numpy; contrib's own implementation is used where it is installed.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

MODEL_FILE = "brisque_model_live.yml"
RANGE_FILE = "brisque_range_live.yml"
MODEL_DIRS = (Path("/usr/share/opencv4/quality"), Path("/usr/share/opencv/quality"))
SHIFTS = ((0, 1), (1, 0), (1, 1), (-1, 1))  # (row, column): horizontal, vertical, both diagonals


def find_models(folder: str | Path | None = None) -> tuple[Path, Path]:
    """The (model, range) files in ``folder`` or the Debian ``opencv-data`` folders; one-line error if absent."""
    folders = (Path(folder),) if folder else MODEL_DIRS
    for where in folders:
        if (where / MODEL_FILE).is_file() and (where / RANGE_FILE).is_file():
            return where / MODEL_FILE, where / RANGE_FILE
    raise FileNotFoundError(
        f"{folders[0]}: BRISQUE needs {MODEL_FILE} and {RANGE_FILE} (apt-get install opencv-data, or --brisque-models DIR)"
    )


class Brisque:
    """BRISQUE score of a BGR (or gray) uint8 image: contrib's when ``cv2.quality`` exists, else numpy's."""

    def __init__(self, models_dir: str | Path | None = None, backend: str = "auto") -> None:
        self.model_file, self.range_file = find_models(models_dir)
        contrib = hasattr(cv2, "quality")
        if backend == "opencv" and not contrib:
            raise RuntimeError("cv2 has no quality module (opencv-contrib is not installed)")
        self.backend = "opencv-contrib" if contrib and backend != "numpy" else "numpy"
        if self.backend == "opencv-contrib":
            self._contrib = cv2.quality.QualityBRISQUE_create(str(self.model_file), str(self.range_file))
        else:
            self._svr = read_svr(self.model_file)
            self._range = read_range(self.range_file)

    def score(self, image: np.ndarray) -> float:
        if self.backend == "opencv-contrib":
            return float(self._contrib.compute(image)[0])
        features = brisque_features(image)
        low, high = self._range
        scaled = -1.0 + 2.0 * (features - low) / (high - low)
        return float(min(max(self._svr.predict(scaled.astype(np.float32)), 0.0), 100.0))

    def describe(self) -> dict[str, Any]:
        return {"backend": self.backend, "model": str(self.model_file), "range": str(self.range_file),
                "scale": "0 best .. 100 worst; label = 1 - score/100"}


class RbfSvr:
    """An epsilon-SVR with an RBF kernel as OpenCV's ml module stores it: f(x) = Σ αᵢ·exp(-γ‖svᵢ - x‖²) - ρ."""

    def __init__(self, support_vectors: np.ndarray, alpha: np.ndarray, rho: float, gamma: float) -> None:
        self.support_vectors = support_vectors.astype(np.float64)
        self.alpha = alpha.astype(np.float64)
        self.rho, self.gamma = float(rho), float(gamma)

    def predict(self, x: np.ndarray) -> float:
        distance = np.sum((self.support_vectors - np.asarray(x, np.float64)) ** 2, axis=1)
        return float(np.dot(self.alpha, np.exp(-self.gamma * distance)) - self.rho)


def read_svr(path: Path) -> RbfSvr:
    storage = cv2.FileStorage(str(path), cv2.FILE_STORAGE_READ)
    try:
        root = storage.getNode("opencv_ml_svm")
        if root.empty() or root.getNode("svmType").string() != "EPS_SVR" or root.getNode("kernel").getNode("type").string() != "RBF":
            raise ValueError(f"{path}: not an OpenCV EPS_SVR model with an RBF kernel")
        vectors = root.getNode("support_vectors")
        support = np.array([_reals(vectors.at(i)) for i in range(vectors.size())], np.float64)
        function = root.getNode("decision_functions").at(0)
        alpha = np.array(_reals(function.getNode("alpha")), np.float64)
        if len(alpha) != len(support):
            raise ValueError(f"{path}: {len(alpha)} coefficients for {len(support)} support vectors")
        return RbfSvr(support, alpha, function.getNode("rho").real(), root.getNode("kernel").getNode("gamma").real())
    finally:
        storage.release()


def read_range(path: Path) -> tuple[np.ndarray, np.ndarray]:
    storage = cv2.FileStorage(str(path), cv2.FILE_STORAGE_READ)
    try:
        matrix = storage.getNode("range").mat()
    finally:
        storage.release()
    if matrix is None or matrix.shape != (2, 36):
        raise ValueError(f"{path}: expected a 2x36 'range' matrix")
    return matrix[0].astype(np.float32), matrix[1].astype(np.float32)


def _reals(node: Any) -> list[float]:
    return [node.at(j).real() for j in range(node.size())]


def brisque_features(image: np.ndarray) -> np.ndarray:
    """The 36 BRISQUE features of a uint8 image, computed in float32 as OpenCV computes them."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    gray = gray.astype(np.float32) / 255.0
    features: list[float] = []
    for scale in (1, 2):
        size = (int(gray.shape[1] / 2 ** (scale - 1)), int(gray.shape[0] / 2 ** (scale - 1)))
        scaled = cv2.resize(gray, size, interpolation=cv2.INTER_CUBIC)
        mscn = _mscn(scaled)
        left, right, shape = aggd_fit(mscn)
        features += [shape, (left**2 + right**2) / 2]
        for dy, dx in SHIFTS:
            shifted = np.zeros_like(mscn)
            rows, cols = mscn.shape
            shifted[max(0, -dy) : rows - max(0, dy), : cols - dx] = mscn[max(0, dy) : rows + min(0, dy), dx:]
            left, right, shape = aggd_fit(mscn * shifted)
            g1, g2, g3 = (math.gamma(k / shape) for k in (1, 2, 3))
            mean = (right - left) * (g2 / g1) * math.sqrt(g1) / math.sqrt(g3)
            features += [shape, mean, left**2, right**2]
    return np.array(features, np.float32)


def _mscn(image: np.ndarray) -> np.ndarray:
    """Mean-subtracted contrast-normalised coefficients: 7×7 Gaussian (σ 7/6) local mean and deviation."""
    mu = cv2.GaussianBlur(image, (7, 7), 7.0 / 6.0, borderType=cv2.BORDER_REPLICATE)
    variance = cv2.GaussianBlur(image * image, (7, 7), 7.0 / 6.0, borderType=cv2.BORDER_REPLICATE) - mu * mu
    sigma = np.sqrt(np.abs(variance)) + np.float32(1.0 / 255.0)  # cv::pow(x, 0.5) takes |x|
    return (image - mu) / sigma


def aggd_fit(values: np.ndarray) -> tuple[float, float, float]:
    """(left σ, right σ, shape) of an asymmetric generalised Gaussian, by moment matching on a 0.001 grid."""
    positive, negative = values[values > 0].astype(np.float64), values[values < 0].astype(np.float64)
    pos_sq, neg_sq = float(np.sum(positive**2)), float(np.sum(negative**2))
    left = math.sqrt(neg_sq / len(negative)) if len(negative) else 0.0
    right = math.sqrt(pos_sq / len(positive)) if len(positive) else 0.0
    if not (left > 0 and right > 0):
        return left, right, 0.2
    total = values.size
    ratio = left / right
    rhat = (float(np.sum(np.abs(values), dtype=np.float64)) / total) ** 2 / ((neg_sq + pos_sq) / total)
    target = rhat * (ratio**3 + 1) * (ratio + 1) / (ratio**2 + 1) ** 2
    grid, ratios = _shape_grid()
    diff = np.abs(ratios - target)
    rising = np.nonzero(diff[1:] > diff[:-1])[0]  # the search stops where the difference first grows
    return left, right, float(grid[rising[0]] if len(rising) else grid[-1])


@lru_cache(maxsize=1)
def _shape_grid() -> tuple[np.ndarray, np.ndarray]:
    grid = 0.2 + 0.001 * np.arange(int(round((10 - 0.2) / 0.001)))
    ratios = np.array([math.gamma(2 / g) ** 2 / (math.gamma(1 / g) * math.gamma(3 / g)) for g in grid])
    return grid, ratios
