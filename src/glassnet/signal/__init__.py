"""Convolution as mathematics, before it becomes a layer.

* ``convolve`` / ``correlate``: the true discrete N-d convolution ``[f*g](i) = sum_a f(a) g(i-a)``
  and cross-correlation, with the ``full``/``same``/``valid`` modes of ``scipy.signal``.
* ``convolve_continuous``: ``[f*g](x) = ∫ f(z) g(x - z) dz`` for functions on R^1 and R^2 by
  quadrature on a uniform grid, with a stated error bound.

Plain NumPy; nothing here records gradients (the differentiable layers live in ``glassnet.ops``).

>>> import glassnet
>>> glassnet.signal.convolve([1, 1], [1, 2, 3])
array([1, 3, 5, 3])
"""

from .continuous import ContinuousConvolution, convolve_continuous
from .discrete import convolve, correlate

__all__ = ["ContinuousConvolution", "convolve", "convolve_continuous", "correlate"]
