"""DOCX -> PDF: the app's warm LibreOffice (hub.documents.DocumentConverter) against a cold
`soffice --headless --convert-to pdf` of the same document (the floor: what each PDF would cost without a
warm process; its profile is made beforehand, so only the start and the conversion are counted).

Prints p50/p95 of each, the ratio cold/warm of the medians, and the wall time of 20 conversions asked at
once. Target: the warm median at most half the cold one.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import PROJECT_ROOT, fmt_ms, median, percentile, write_result

TARGET_RATIO = 2.0


@dataclasses.dataclass
class Options:
    warm_runs: int = 30
    cold_runs: int = 5
    burst: int = 20


def sample_docx() -> bytes:
    """A one-page FALC slip rendered by docxtpl, as referrals will make them."""
    sys.path.insert(0, str(PROJECT_ROOT))
    from hub.documents import render_docx
    from tests.docx_support import falc_document, to_bytes

    template = falc_document()
    template.add_paragraph("Bonjour {{ prenom }} {{ nom }}.")
    template.add_paragraph("Votre rendez-vous est au {{ lieu }}.")
    return render_docx(to_bytes(template), {"prenom": "Awa", "nom": "Diallo", "lieu": "centre social des Tilleuls"})


def _figures(samples: list[float]) -> dict[str, Any]:
    return {
        "runs": len(samples),
        "p50_ms": round(median(samples) * 1000, 1),
        "p95_ms": round(percentile(samples, 95) * 1000, 1),
        "min_ms": round(min(samples) * 1000, 1),
        "max_ms": round(max(samples) * 1000, 1),
    }


def cold_runs(docx: bytes, runs: int, workdir: Path) -> list[float]:
    soffice = shutil.which("soffice")
    if soffice is None:
        raise RuntimeError("soffice introuvable : scripts/install-libreoffice")
    source = workdir / "fiche.docx"
    source.write_bytes(docx)
    profile = (workdir / "cold-profile").as_uri()
    command = [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf", "--outdir"]
    subprocess.run([*command, str(workdir / "warmup"), str(source)], capture_output=True, timeout=300, check=True)
    samples = []
    for index in range(runs):
        out = workdir / f"cold-{index}"
        started = time.perf_counter()
        subprocess.run([*command, str(out), str(source)], capture_output=True, timeout=300, check=True)
        samples.append(time.perf_counter() - started)
        if not (out / "fiche.pdf").exists():
            raise RuntimeError("soffice --convert-to n'a pas produit de PDF")
    return samples


async def warm_runs(docx: bytes, options: Options, workdir: Path) -> tuple[list[float], float, float]:
    from hub.documents import DocumentConverter

    converter = DocumentConverter(workdir / "warm")
    try:
        started = time.perf_counter()
        await converter.start()
        start_s = time.perf_counter() - started
        await converter.to_pdf(docx)  # the first document loads the filters
        samples = []
        for _ in range(options.warm_runs):
            started = time.perf_counter()
            pdf = await converter.to_pdf(docx)
            samples.append(time.perf_counter() - started)
            assert pdf.startswith(b"%PDF")
        started = time.perf_counter()
        await asyncio.gather(*(converter.to_pdf(docx) for _ in range(options.burst)))
        burst_s = time.perf_counter() - started
    finally:
        await converter.stop()
    return samples, start_s, burst_s


def run(options: Options | None = None) -> dict[str, Any]:
    options = options or Options()
    print(
        f"== documents : DOCX -> PDF, LibreOffice chaud ({options.warm_runs} conversions) "
        f"contre `soffice --convert-to pdf` à froid ({options.cold_runs})"
    )
    docx = sample_docx()
    with tempfile.TemporaryDirectory(prefix="maillage-bench-documents-") as tmp:
        workdir = Path(tmp)
        warm, start_s, burst_s = asyncio.run(warm_runs(docx, options, workdir))
        cold = cold_runs(docx, options.cold_runs, workdir)
    figures = {"warm": _figures(warm), "cold": _figures(cold)}
    ratio = median(cold) / median(warm)
    meets = ratio >= TARGET_RATIO
    print(f"  {'':44} {'p50':>11} {'p95':>11} {'min':>11}")
    for name, label in (
        ("cold", "soffice --convert-to à froid (plancher)"),
        ("warm", "DocumentConverter.to_pdf (chaud)"),
    ):
        f = figures[name]
        print(f"  {label:<44} {fmt_ms(f['p50_ms'])} {fmt_ms(f['p95_ms'])} {fmt_ms(f['min_ms'])}")
    print(
        f"  ratio p50 froid/chaud = {ratio:.1f}x (cible ≥ {TARGET_RATIO:g}x : {'atteinte' if meets else 'NON ATTEINTE'}) ; "
        f"démarrage du LibreOffice chaud {start_s:.1f} s ; {options.burst} conversions demandées ensemble : {burst_s:.1f} s"
    )
    result = {
        "options": dataclasses.asdict(options),
        "docx_bytes": len(docx),
        "figures": figures,
        "ratio_p50_cold_over_warm": round(ratio, 2),
        "warm_start_s": round(start_s, 2),
        "burst_s": round(burst_s, 2),
        "target_ratio": TARGET_RATIO,
        "meets_target": meets,
    }
    path = write_result("documents", result)
    print(f"  résultats : {path.relative_to(PROJECT_ROOT)}")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.documents", description=__doc__)
    parser.add_argument("--warm-runs", type=int, default=30)
    parser.add_argument("--cold-runs", type=int, default=5)
    args = parser.parse_args()
    run(Options(warm_runs=args.warm_runs, cold_runs=args.cold_runs))
