"""benchmarks/step_profile.py reads a profiler trace into time per op: on a CPU by HLO
name, on a GPU from the device's own lines only, with XLA's kernels named back to their
fusions and library kernels sorted by kind. The GPU traces here are written by hand in
the trace format's shape (process and thread names as metadata events), since no GPU
runs the tests."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))

import step_profile  # noqa: E402

HLO = """
%fused_computation.3 (p: f32[8]) -> f32[8] {
  ROOT %a = f32[8]{0} add(p, p)
}

%fused_computation.4 (p: f32[8]) -> f32[] {
  ROOT %r = f32[] reduce(p, c), dimensions={0}
}

ENTRY %main (x: f32[8]) -> f32[8] {
  %loop_add_fusion.3 = f32[8]{0} fusion(%x), kind=kLoop, calls=%fused_computation.3
  %input_reduce_fusion.4 = f32[] fusion(%x), kind=kInput, calls=%fused_computation.4
  %cudnn-conv.1 = (f32[8]{0}, u8[0]{0}) custom-call(%x), custom_call_target="__cudnn$convForward"
  %while.2 = (f32[8]{0}, s32[]) while(%t), condition=%cond.2, body=%body.2
}
"""


def _meta(kind, pid, name, tid=None):
  e = {"ph": "M", "name": kind, "pid": pid, "args": {"name": name}}
  return e if tid is None else {**e, "tid": tid}


def _op(pid, tid, name, dur):
  return {"ph": "X", "pid": pid, "tid": tid, "name": name, "dur": dur}


def _gpu_trace(with_ops_line=False):
  events = [
    _meta("process_name", 1, "/device:GPU:0 (NVIDIA H100 80GB HBM3)"),
    _meta("process_name", 2, "/host:CPU"),
    _meta("thread_name", 1, "Stream #13(Compute)", tid=1),
    _meta("thread_name", 1, "XLA Modules", tid=2),
    _meta("thread_name", 1, "Stream #14(MemcpyD2H)", tid=3),
    _op(1, 1, "loop_add_fusion_3", 10),
    _op(1, 1, "loop_add_fusion_3", 5),
    _op(1, 1, "sm90_xmma_fprop_implicit_gemm_bf16bf16_bf16f32", 30),
    _op(1, 1, "nvjet_tst_128x64_64x4_1x2_h_bz_coopA_TNT", 20),
    _op(1, 3, "MemcpyD2H", 4),
    _op(1, 2, "jit_step(123)", 100),  # the whole module: not an op
    _op(2, 7, "loop_add_fusion.3", 50),  # the host's side of the launch
  ]
  if with_ops_line:
    events += [_meta("thread_name", 1, "XLA Ops", tid=4), _op(1, 4, "cudnn-conv.1", 31)]
  return events


def test_gpu_kernels_are_named_by_their_fusion_or_their_library_and_the_host_is_left_out():
  hlo = step_profile.Hlo(HLO)
  total, per_line = step_profile.aggregate(_gpu_trace(), hlo)
  assert dict(total) == {
    "loop_add_fusion.3": 15,
    "sm90_xmma_fprop_implicit_gemm_bf16bf16_bf16f32": 30,
    "nvjet_tst_128x64_64x4_1x2_h_bz_coopA_TNT": 20,
    "MemcpyD2H": 4,
  }
  assert per_line["XLA Modules"] == 100
  kinds = {name: hlo.kind(name) for name in total}
  assert kinds == {
    "loop_add_fusion.3": "elementwise fusion",
    "sm90_xmma_fprop_implicit_gemm_bf16bf16_bf16f32": "convolution (library kernel)",
    "nvjet_tst_128x64_64x4_1x2_h_bz_coopA_TNT": "matmul (library kernel)",
    "MemcpyD2H": "copy",
  }


def test_an_xla_ops_line_is_read_alone_where_the_trace_has_one():
  hlo = step_profile.Hlo(HLO)
  total, _ = step_profile.aggregate(_gpu_trace(with_ops_line=True), hlo)
  assert dict(total) == {"cudnn-conv.1": 31}
  assert hlo.kind("cudnn-conv.1") == "convolution (library)"


def test_on_a_cpu_the_ops_are_the_events_named_by_the_hlo_less_loops_that_span_them():
  hlo = step_profile.Hlo(HLO)
  events = [
    _meta("process_name", 2, "/host:CPU"),
    _op(2, 7, "loop_add_fusion.3", 50),
    _op(2, 7, "input_reduce_fusion.4", 7),
    _op(2, 8, "PjitFunction(step)", 900),
    _op(2, 7, "while.2", 70),  # spans the ops of its body, each with its own event
  ]
  total, per_line = step_profile.aggregate(events, hlo)
  assert dict(total) == {"loop_add_fusion.3": 50, "input_reduce_fusion.4": 7}
  assert not per_line
  assert hlo.kind("input_reduce_fusion.4") == "reduction fusion"
