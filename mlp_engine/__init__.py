"""mlp_engine: a multilayer perceptron written from scratch in NumPy.

Pure NumPy: no Qt, no matplotlib at import time, no printing, no global random state.
Everything the GUI and the command line use is re-exported here.
"""
from .activations import ACTIVATIONS
from .config import PRESETS, TrainConfig, preset
from .data import CLASS_NAMES, DATASET_NAMES, Dataset, DatasetNotFoundError, load_dataset, locate_dataset
from .imaging import EmptyDrawingError, render_strokes, to_mnist
from .layers import AddGate, Dropout, Layer, MultiplyGate
from .losses import SoftmaxCrossEntropy, softmax
from .network import MLP
from .optimizers import OPTIMIZERS, SGD, Adam, Momentum, Nesterov, Optimizer, RMSProp, make_optimizer
from .preprocessing import PREPROCESSING, Preprocessor
from .schedules import SCHEDULES, lr_at
from .serialization import ModelFileError, load_checkpoint, load_model, save_model
from .training import BatchReport, EpochReport, Trainer, TrainingDiverged, evaluate

__all__ = [
    "ACTIVATIONS", "AddGate", "Adam", "BatchReport", "CLASS_NAMES", "DATASET_NAMES", "Dataset",
    "DatasetNotFoundError", "Dropout", "EmptyDrawingError", "EpochReport", "Layer", "MLP",
    "ModelFileError", "Momentum", "MultiplyGate", "Nesterov", "OPTIMIZERS", "Optimizer", "PREPROCESSING",
    "PRESETS", "Preprocessor", "RMSProp", "SCHEDULES", "SGD", "SoftmaxCrossEntropy", "TrainConfig",
    "Trainer", "TrainingDiverged", "evaluate", "load_checkpoint", "load_dataset", "load_model",
    "locate_dataset", "lr_at", "make_optimizer", "preset", "render_strokes", "save_model", "softmax", "to_mnist",
]
__version__ = "0.1.0"
