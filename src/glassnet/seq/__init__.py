"""Sequence modelling on top of the layers: truncated BPTT training and friends."""

from .acf import acf
from .forecast import (
    fit_rnn_forecaster,
    fit_window_model,
    forecast,
    k_step_forecast,
    mae,
    mean_forecast,
    mse,
    one_step_forecast,
    persistence_forecast,
    rmse,
    warmup_mse,
)
from .lm import (
    lm_nll,
    next_token_loss,
    next_token_probs,
    perplexity,
    sample,
    train_lm_epoch,
    unigram_perplexity,
)
from .tbptt import (
    TBPTTLoader,
    TBPTTResult,
    TBPTTStream,
    TBPTTUpdate,
    TBPTTWindow,
    tbptt_iter,
    tbptt_train,
)

__all__ = ["TBPTTResult", "TBPTTUpdate", "tbptt_iter", "tbptt_train"]
__all__ += ["TBPTTLoader", "TBPTTStream", "TBPTTWindow"]
__all__ += [
    "acf",
    "fit_rnn_forecaster",
    "fit_window_model",
    "forecast",
    "k_step_forecast",
    "lm_nll",
    "mae",
    "mean_forecast",
    "mse",
    "next_token_probs",
    "one_step_forecast",
    "perplexity",
    "persistence_forecast",
    "rmse",
    "sample",
    "train_lm_epoch",
    "unigram_perplexity",
]
__all__ += ["next_token_loss", "warmup_mse"]
