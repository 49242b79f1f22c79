"""Tensor hooks, ``autograd.grad``, ``backward(inputs=)`` and the grad-mode switches, each
compared with what PyTorch does in the same situation."""

from __future__ import annotations

import numpy as np
import pytest

import glassnet
from glassnet.autograd import grad

from ..helpers import assert_close, torch


def _pair(a, requires_grad=True):
    return (
        glassnet.tensor(np.asarray(a, np.float64), requires_grad=requires_grad),
        torch.tensor(np.asarray(a, np.float64), requires_grad=requires_grad),
    )


# ------------------------------------------------------------------------------ register_hook
def test_leaf_hook_sees_the_total_gradient_once_and_may_replace_it():
    for lib_x in _pair([1.0, 2.0]):
        seen = []
        lib_x.register_hook(lambda g, seen=seen: seen.append(g.tolist()))
        lib_x.register_hook(lambda g: g * 10)
        ((lib_x * lib_x).sum() + (3 * lib_x).sum()).backward()
        assert seen == [[5.0, 7.0]]  # both contributions summed before the hook
        assert lib_x.grad.tolist() == [50.0, 70.0]


def test_nonleaf_hook_changes_what_flows_on_and_what_retain_grad_stores():
    ga, ta = _pair([1.0, 2.0])
    outs = []
    for a in (ga, ta):
        b = a * 2
        b.retain_grad()  # registered first, still sees the hooked gradient (as torch)
        b.register_hook(lambda g: g * 3)
        (b * b).sum().backward()
        outs.append((b.grad, a.grad))
    assert_close(outs[0][0], outs[1][0])
    assert_close(outs[0][1], outs[1][1])
    assert outs[0][1].tolist() == [24.0, 48.0]


def test_hook_on_the_root_and_on_a_multi_output_op():
    ga, ta = _pair([1.0, 2.0, 3.0])
    for a in (ga, ta):
        y = (a * 2).sum()
        y.register_hook(lambda g: g * 5)
        y.backward()
    assert_close(ga.grad, ta.grad)
    x = glassnet.tensor(np.arange(6.0), requires_grad=True)
    p, q = x.split(3)
    q.register_hook(lambda g: g * 0)  # only the second output's gradient is cut
    (p.sum() + q.sum()).backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]


def test_hook_handle_removes_and_works_as_context_manager():
    x = glassnet.tensor([1.0, 2.0], requires_grad=True)
    h = x.register_hook(lambda g: g * 100)
    h.remove()
    h.remove()  # twice is harmless
    with x.register_hook(lambda g: g * 0):
        pass
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    y = glassnet.tensor([1.0], requires_grad=True)
    z = y * 3
    hz = z.register_hook(lambda g: g * 7)
    hz.remove()
    z.sum().backward()
    assert y.grad.tolist() == [3.0]


def test_hook_errors():
    with pytest.raises(RuntimeError, match="does not require grad"):
        glassnet.ones(2).register_hook(lambda g: g)
    with pytest.raises(TypeError, match="callable"):
        glassnet.ones(2, requires_grad=True).register_hook(3)
    cases = [
        (lambda g: glassnet.ones(3), RuntimeError, "changed the size"),
        (lambda g: g.double(), RuntimeError, "changed the dtype"),
        (lambda g: 3.0, TypeError, "must return a Tensor or None, but returned float"),
    ]
    for hook, err, msg in cases:
        x = glassnet.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(hook)
        with pytest.raises(err, match=msg):
            (x * 2).sum().backward()


def test_hook_argument_is_read_only_so_shared_gradients_stay_intact():
    x = glassnet.tensor([1.0, 2.0], requires_grad=True)
    y = glassnet.tensor([1.0, 2.0], requires_grad=True)
    s = x + y  # Add hands the same gradient array to both inputs

    def scale_in_place(g):
        g.mul_(2)

    x.register_hook(scale_in_place)
    with pytest.raises(ValueError, match="read-only"):
        (s * 1).sum().backward()


# ------------------------------------------------------------------------------ autograd.grad
def test_grad_matches_torch_and_leaves_dot_grad_alone():
    r = np.random.default_rng(0)
    gw, tw = _pair(r.standard_normal((3, 2)))
    gx, tx = _pair(r.standard_normal((4, 3)), requires_grad=False)
    gb, tb = _pair(r.standard_normal(2))
    ours = grad(((gx @ gw + gb).tanh() ** 2).sum(), [gw, gb])
    theirs = torch.autograd.grad(((tx @ tw + tb).tanh() ** 2).sum(), [tw, tb])
    for a, b in zip(ours, theirs):
        assert_close(a, b)
    assert gw.grad is None and gb.grad is None


def test_grad_with_respect_to_intermediate_tensors_and_several_outputs():
    ga, ta = _pair([1.0, 2.0])
    results = []
    for a, lib in ((ga, glassnet), (ta, torch)):
        h = a * 3
        h.register_hook(lambda g: g * 10)  # applies before the capture of h, as in torch
        y1, y2 = (h * h).sum(), (h.exp()).sum()
        results.append(lib.autograd.grad([y1, y2], h, retain_graph=True))
        results.append(lib.autograd.grad([y1, y2], a, retain_graph=True))
        results.append(lib.autograd.grad(y1, a, grad_outputs=lib.tensor(2.0, dtype=h.dtype)))
    for ours, theirs in zip(results[:3], results[3:]):
        assert len(ours) == len(theirs) == 1
        assert_close(ours[0], theirs[0])


def test_grad_of_an_intermediate_and_its_leaf_together_applies_hooks_to_both():
    # torch captures h before its hook when h's creator also runs (inputs [h, a]) but after it
    # otherwise; glassnet applies the hook before the capture in both cases (docs/pytorch.md)
    a = glassnet.tensor([1.0, 2.0], requires_grad=True)
    h = a * 3
    h.register_hook(lambda g: g * 10)
    gh, ga = grad((h * h).sum(), [h, a])
    assert gh.tolist() == [60.0, 120.0] and ga.tolist() == [180.0, 360.0]


def test_grad_populates_retain_grad_but_not_other_leaves_as_torch():
    for lib in (glassnet, torch):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        c = lib.tensor([1.0, 2.0], requires_grad=True)
        b = a * 2
        b.retain_grad()
        (ga,) = lib.autograd.grad((b * b).sum() + (c * c).sum(), a)
        assert ga.tolist() == [8.0, 16.0] and b.grad.tolist() == [4.0, 8.0]
        assert c.grad is None and a.grad is None


def test_grad_runs_only_the_part_of_the_graph_it_needs():
    x = glassnet.tensor([1.0, 2.0], requires_grad=True)
    w = glassnet.tensor([3.0], requires_grad=True)
    h = x * 2
    y = (h * w).sum()
    (gh,) = grad(y, h)  # the graph below h is not walked, so it is not freed either
    assert gh.tolist() == [3.0, 3.0]
    y2 = (h * h).sum()
    y2.backward()  # x's branch still has its saved arrays
    assert x.grad.tolist() == [8.0, 16.0]


def test_grad_unused_inputs_and_errors():
    x = glassnet.tensor([1.0, 2.0], requires_grad=True)
    other = glassnet.tensor([1.0], requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="input 1 was not used.*allow_unused=True"):
        grad(y, [x, other], retain_graph=True)
    gx, go = grad(y, [x, other], allow_unused=True, retain_graph=True)
    assert go is None and gx.tolist() == [2.0, 2.0]
    _, gz = grad(y, [x, other], materialize_grads=True, retain_graph=True)
    assert gz.tolist() == [0.0]
    with pytest.raises(RuntimeError, match="input 0 does not require grad"):
        grad(y, glassnet.ones(2), retain_graph=True)
    with pytest.raises(RuntimeError, match="output 0 does not require grad"):
        grad(glassnet.ones(2).sum(), x)
    with pytest.raises(RuntimeError, match="single element"):
        grad(x * 2, x)
    with pytest.raises(ValueError, match=r"gradient of shape \(\), got \(3,\)"):
        grad(y, x, grad_outputs=[np.ones(3)])
    with pytest.raises(RuntimeError, match="cannot be empty"):
        grad(y, [])
    with pytest.raises(NotImplementedError, match="create_graph=True.*double backward"):
        grad(y, x, create_graph=True)
    with pytest.raises(NotImplementedError, match="double backward"):
        y.backward(create_graph=True)
    grad(y, x)  # frees the graph
    with pytest.raises(RuntimeError, match="second time"):
        grad(y, x)


def test_grad_of_a_leaf_output_and_backward_inputs():
    x = glassnet.tensor([1.0, 2.0], requires_grad=True)
    assert grad(x, x, np.ones(2))[0].tolist() == [1.0, 1.0]
    for lib in (glassnet, torch):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([1.0, 2.0], requires_grad=True)
        h = a * 3
        (h * h).sum().backward(inputs=[h, b])
        assert a.grad is None and b.grad is None and h.grad.tolist() == [6.0, 12.0]
    with pytest.raises(RuntimeError, match="cannot be empty"):
        (x * 2).sum().backward(inputs=[])


def test_backward_of_several_tensors_at_once():
    ga, ta = _pair([1.0, 2.0])
    glassnet.autograd.backward([(ga * ga).sum(), ga * 3], [None, np.array([1.0, 0.5])])
    torch.autograd.backward([(ta * ta).sum(), ta * 3], [None, torch.tensor([1.0, 0.5])])
    assert_close(ga.grad, ta.grad)
    with pytest.raises(ValueError, match="2 outputs but 1 gradients"):
        glassnet.autograd.backward([(ga * ga).sum(), ga * 3], [None])


def test_a_freed_branch_is_reported_only_when_the_walk_needs_it():
    x = glassnet.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    h.sum().backward()  # frees Exp
    z = (h * 2).sum()
    assert grad(z, h)[0].tolist() == [2.0, 2.0]  # stops at h: fine, as in torch
    z = (h * 2).sum()
    with pytest.raises(RuntimeError, match="second time.*Exp"):
        grad(z, x)
    with pytest.raises(RuntimeError, match="second time.*Exp"):
        (h * 2).sum().backward()


# ------------------------------------------------------------------------------ grad modes
def test_inference_mode_and_is_grad_enabled():
    x = glassnet.ones(2, requires_grad=True)
    assert glassnet.is_grad_enabled() and not glassnet.is_inference_mode_enabled()
    with glassnet.inference_mode():
        assert not glassnet.is_grad_enabled() and glassnet.is_inference_mode_enabled()
        assert not (x * 2).requires_grad
        with glassnet.inference_mode(False):
            assert not glassnet.is_grad_enabled()  # mode=False leaves grad mode alone
    assert glassnet.is_grad_enabled() and not glassnet.is_inference_mode_enabled()

    @glassnet.inference_mode()
    def f(t):
        return t * 3

    @glassnet.inference_mode
    def g(t):
        return t * 3

    assert not f(x).requires_grad and not g(x).requires_grad
    assert (x * 2).requires_grad
