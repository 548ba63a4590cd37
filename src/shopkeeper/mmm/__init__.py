"""Marketing mix: the simple line, the mix model, response curves and the budget split."""

from shopkeeper.mmm._analysis import MixAnalysis, MMMSettings, analyse, analyse_store, load_analysis
from shopkeeper.mmm._budget import Allocation, allocate
from shopkeeper.mmm._data import MixData, load_mix_data
from shopkeeper.mmm._model import Channel, MixModel, MixSettings, fit_mix
from shopkeeper.mmm._simple import SimpleModel, fit_simple

__all__ = [
    "Allocation",
    "Channel",
    "MMMSettings",
    "MixAnalysis",
    "MixData",
    "MixModel",
    "MixSettings",
    "SimpleModel",
    "allocate",
    "analyse",
    "analyse_store",
    "fit_mix",
    "fit_simple",
    "load_analysis",
    "load_mix_data",
]
