"""Gradient flow through time: what BPTT does to gradients, measured on real backward passes.

* :func:`grad_norms_through_time`: ``||dL/dh_t||`` per time step via the fused op's BPTT hook.
* :func:`jacobian_product`: step Jacobians ``dH_t/dH_{t-1}`` and the norms of their products.
* :func:`recurrent_spectrum`: singular values / spectral radius and the Pascanu-Mikolov-Bengio
  (2013) conditions for vanishing and exploding gradients.
* :mod:`glassnet.diagnostics.tasks`: the adding problem and the copy-memory task.
* :mod:`glassnet.diagnostics.experiments`: the experiments behind ``glassnet gradflow``.
"""

from .gradients import (
    GradNorms,
    JacobianProducts,
    Spectrum,
    grad_norms_through_time,
    jacobian_product,
    recurrent_spectrum,
    scale_to_spectral_radius,
)

__all__ = [
    "GradNorms",
    "JacobianProducts",
    "Spectrum",
    "grad_norms_through_time",
    "jacobian_product",
    "recurrent_spectrum",
    "scale_to_spectral_radius",
]
