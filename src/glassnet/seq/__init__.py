"""Sequence modelling on top of the layers: truncated BPTT training and friends."""

from .tbptt import TBPTTResult, TBPTTUpdate, tbptt_iter, tbptt_train

__all__ = ["TBPTTResult", "TBPTTUpdate", "tbptt_iter", "tbptt_train"]
