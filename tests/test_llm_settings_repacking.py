"""`llm.weight_repacking`: llama.cpp's AMX kernels crash on batched prompts, so "auto" turns repacking off there."""

from pathlib import Path

import llama_cpp.llama_cpp as lib

from rag.llm import cpu_has_amx, model_defaults, repacking_enabled


def test_auto_repacks_except_on_an_amx_cpu(tmp_path: Path):
    amx = tmp_path / "amx"
    amx.write_text("flags\t\t: fpu sse avx2 avx512f amx_bf16 amx_tile amx_int8\n")
    plain = tmp_path / "plain"
    plain.write_text("flags\t\t: fpu sse avx2 avx512f\n")
    assert cpu_has_amx(amx) and not cpu_has_amx(plain)
    assert not cpu_has_amx(tmp_path / "missing")
    assert repacking_enabled("auto", plain) and not repacking_enabled("auto", amx)
    assert repacking_enabled("on", amx) and not repacking_enabled("off", plain)


def test_model_defaults_turn_repacking_off_only_inside_the_block():
    assert lib.llama_model_default_params().use_extra_bufts
    with model_defaults(repack=False):
        assert not lib.llama_model_default_params().use_extra_bufts
    assert lib.llama_model_default_params().use_extra_bufts
    with model_defaults(repack=True):
        assert lib.llama_model_default_params().use_extra_bufts
