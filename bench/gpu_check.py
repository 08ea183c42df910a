"""GPU check (``make gpu-check``; needs CUDA): SAM 3, Depth Anything 3 and MatAnyone 2 on the
real packages with random weights, in one run.

1. Side by side on the same clip and prompts — upstream (one session over the whole clip: the
   request API for a text concept, the tracker from a JPEG folder for 3 objects' points, with
   its offloading on) vs SAM3Track (chunked sessions) — on 289 frames of ../shared/footage/
   01_dog.mp4 and on a ~1000-frame clip made from it (played forwards and backwards): fps and
   the ratio, peak GPU memory (SAM3Track: per chunk) and peak host RSS. Targets (DESIGN.md):
   SAM3Track ≥ 1.0× upstream fps; its GPU and host memory within 1.1× from 289 to 1000 frames.
2. The tracker's offload option (``offload``) on and off: fps and GPU memory.
3. Weights through the real loading path: a random-initialised SAM 3 saved as facebook/sam3's
   ``sam3.pt`` (a ``model`` key) in a Hugging Face cache layout, loaded by SAM3Track from its HF
   id (HF_HUB_OFFLINE=1) and from the local file: masks equal the in-memory model's.
4. Full-size builds (DA3-large, MatAnyone 2, SAM 3 image) with memory, and
   ``rotograph render graphs/sam3_matte.json`` / ``graphs/depth_layers.json`` with random
   weights: they finish and write their EXRs.

Each measurement runs in its own process (``--run NAME …`` prints one ``RESULT {json}`` line) so
that host RSS and GPU memory are not those of an earlier one. ``--quick``: 48 and 96 frames.
Without CUDA it exits with status 2 and says so. Needs torch with CUDA, sam3 (+ open_clip_torch
for the BPE vocabulary), depth-anything-3 and matanyone2-runtime (see ../shared/gpu/README.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FOOTAGE = os.environ.get("ROTOGRAPH_FOOTAGE", os.path.join(ROOT, "..", "shared", "footage"))
POINTS = [(640, 360), (320, 220), (960, 520)]  # three objects on the first frame (plate pixels, 1280×720)
GIB = 2 ** 30


# -- measuring ---------------------------------------------------------------------------------
def rss() -> int:
    """Resident memory of this process in bytes (Linux /proc: the GPU image lacks psutil)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRSS:
    """Peak resident memory of this process, sampled every 50 ms while the block runs."""

    def __enter__(self):
        self.peak, self.done = 0, False
        self.base = rss()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while not self.done:
            self.peak = max(self.peak, rss())
            time.sleep(0.05)

    def __exit__(self, *exc):
        self.done = True
        self.thread.join()
        self.peak = max(self.peak, rss())


def _clip(frames: int, folder: str) -> str:
    """JPEG frames ``1001.jpg``… (what upstream reads, and SAM3Track through Read): 01_dog.mp4
    played forwards then backwards until ``frames`` are made."""
    import cv2

    import rotograph
    from rotograph.nodes.common._imaging import to_display_u8

    os.makedirs(folder, exist_ok=True)
    g = rotograph.Graph(rotograph.Registry.builtin())
    g.add("rotograph.Read", "read", file=os.path.join(FOOTAGE, "01_dog.mp4"))
    n = 289
    order = [i for _ in range(frames // (2 * n) + 1) for i in list(range(n)) + list(range(n - 1, -1, -1))][:frames]
    for k, src in enumerate(order):
        path = os.path.join(folder, f"{1001 + k}.jpg")
        if not os.path.exists(path):
            rgb = to_display_u8(g.evaluate("read", 1001 + src))
            cv2.imwrite(path, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
    return folder


def _model():
    from rotograph.interop.models import SPECS, resolve_weights
    from rotograph.nodes.ai.sam3 import build_video_model

    return build_video_model(resolve_weights(SPECS["sam3"], "random"), "cuda")


def run_upstream(mode: str, folder: str) -> dict:
    """One upstream session over the whole clip."""
    import torch

    sam = _model()
    frames = len([f for f in os.listdir(folder) if f.endswith(".jpg")])
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    with PeakRSS() as rss:
        t0 = time.perf_counter()
        if mode == "text":
            p = sam.predictor
            sid = p.handle_request({"type": "start_session", "resource_path": folder})["session_id"]
            p.handle_request({"type": "add_prompt", "session_id": sid, "frame_index": 0, "text": "dog"})
            n = sum(1 for _ in p.handle_stream_request({"type": "propagate_in_video", "session_id": sid,
                                                        "propagation_direction": "forward", "start_frame_index": 0}))
            p.handle_request({"type": "close_session", "session_id": sid})
        else:
            t = sam.tracker
            state = t.init_state(video_path=folder, offload_video_to_cpu=True, offload_state_to_cpu=True)
            h, w = state["video_height"], state["video_width"]
            for k, (x, y) in enumerate(POINTS, start=1):
                t.add_new_points_or_box(state, 0, k, points=torch.tensor([[x / w, y / h]]), labels=torch.tensor([1]))
            n = 0
            for _, _, _, logits, _ in t.propagate_in_video(state, 0, None, False, tqdm_disable=True,
                                                           propagate_preflight=True):
                (logits > 0).cpu()  # masks on the host, as a user needs them
                n += 1
        torch.cuda.synchronize()
        dt = time.perf_counter() - t0
    return {"frames": n, "fps": frames / dt, "gpu_peak_gib": [torch.cuda.max_memory_allocated() / GIB],
            "rss_peak_gib": rss.peak / GIB, "rss_growth_gib": (rss.peak - rss.base) / GIB}


def run_sam3track(mode: str, folder: str, chunk: int, offload: bool = True) -> dict:
    """SAM3Track through the engine (bounded memory cache), peak GPU memory per chunk."""
    import torch

    import rotograph
    from rotograph.interop.models import MANAGER, SPECS, resolve_weights

    sam = _model()
    MANAGER.get("sam3:video", resolve_weights(SPECS["sam3"], "random"), "cuda", lambda w, d: sam)
    peaks: list[float] = []
    started = [False]

    def marked(real):
        def start(*a, **k):  # a session (chunk) starts: the previous one's peak is complete
            if started[0]:
                peaks.append(torch.cuda.max_memory_allocated() / GIB)
            started[0] = True
            torch.cuda.reset_peak_memory_stats()
            return real(*a, **k)

        return start

    sam.tracker.init_state = marked(sam.tracker.init_state)
    sam.predictor.start_session = marked(sam.predictor.start_session)
    frames = sorted(int(f[:-4]) for f in os.listdir(folder) if f.endswith(".jpg"))
    g = rotograph.Graph(rotograph.Registry.builtin())
    g.add("rotograph.Read", "read", file=os.path.join(folder, "####.jpg"), colorspace="sRGB")
    prompts = [{"frame": frames[0], "object": k, "points": [[x, y, 1]], "box": None} for k, (x, y) in enumerate(POINTS, 1)]
    g.add("rotograph.SAM3Track", "track", weights="random", chunk=chunk, overlap=4, offload=offload,
          **({"text": "dog"} if mode == "text" else {"prompts": prompts}))
    g.connect("read.image", "track.image")
    ev = rotograph.Evaluator(g, rotograph.Cache(memory_bytes=256 << 20))
    ev.wanted = {"track": set(frames)}
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    with PeakRSS() as rss:
        t0 = time.perf_counter()
        ev.get("track", "masks", frames[-1])
        torch.cuda.synchronize()
        dt = time.perf_counter() - t0
    peaks.append(torch.cuda.max_memory_allocated() / GIB)
    return {"frames": ev.stats.computes["track"], "fps": len(frames) / dt, "gpu_peak_gib": peaks,
            "rss_peak_gib": rss.peak / GIB, "rss_growth_gib": (rss.peak - rss.base) / GIB}


def run_weights(folder: str) -> dict:
    """A random SAM 3 saved as sam3.pt ({"model": state}) in a HF cache, loaded from its HF id
    offline and from the file by SAM3Track: masks equal those of the in-memory model."""
    import numpy as np
    import torch

    sys.path.insert(0, os.path.join(ROOT, "tests"))
    from hf_cache import REVISION, hf_snapshot

    import rotograph
    from rotograph.interop.models import MANAGER, SPECS, resolve_weights

    tmp = tempfile.mkdtemp(prefix="rotograph-sam3-weights-")
    sam = _model()
    model = sam.predictor.model
    state = {k: v for k, v in model.state_dict().items() if not k.startswith("tracker.backbone.")}  # ours, not upstream's
    torch.save({"model": state}, os.path.join(tmp, "sam3.pt"))
    with open(os.path.join(tmp, "config.json"), "w") as f:
        f.write("{}")
    hf_snapshot(os.path.join(tmp, "hf"), "facebook/sam3", {n: os.path.join(tmp, n) for n in ("sam3.pt", "config.json")})
    MANAGER.get("sam3:video", resolve_weights(SPECS["sam3"], "random"), "cuda", lambda w, d: sam)
    frames = sorted(int(f[:-4]) for f in os.listdir(folder) if f.endswith(".jpg"))[:16]

    def masks(weights):
        g = rotograph.Graph(rotograph.Registry.builtin())
        g.add("rotograph.Read", "read", file=os.path.join(folder, "####.jpg"), colorspace="sRGB")
        g.add("rotograph.SAM3Track", "track", weights=weights, chunk=8, overlap=2,
              prompts=[{"frame": frames[0], "object": 1, "points": [list(POINTS[0]) + [1]], "box": None}])
        g.connect("read.image", "track.image")
        ev = rotograph.Evaluator(g, rotograph.Cache())
        ev.wanted = {"track": set(frames)}
        return [ev.get("track", "masks", f).labels for f in frames], g.nodes["track"].key_material(frames[0])

    os.environ.update(HF_HOME=os.path.join(tmp, "hf"), HF_HUB_OFFLINE="1")
    want, _ = masks("random")
    out = {}
    for label, weights in (("hf_id", ""), ("local_file", os.path.join(tmp, "sam3.pt"))):
        got, key = masks(weights)
        out[label] = {"key": key, "equal": all(np.array_equal(a, b) for a, b in zip(want, got)),
                      "pixels_differing": int(sum((a != b).sum() for a, b in zip(want, got)))}
    out["hf_revision_in_key"] = out["hf_id"]["key"]["weights"] == f"hf:{REVISION}"
    return out


def run_builds() -> dict:
    import torch

    from rotograph.interop.models import SPECS, resolve_weights
    from rotograph.nodes.ai import sam3 as sam3_nodes
    from rotograph.nodes.ai.da3 import build_da3
    from rotograph.nodes.ai.matanyone import build_matanyone

    out = {}
    for name, key, build in (("DA3 large", "da3", lambda w: build_da3("da3-large", w, "cuda")),
                             ("MatAnyone 2", "matanyone2", lambda w: build_matanyone(w, "cuda")),
                             ("SAM 3 image", "sam3", lambda w: sam3_nodes.build_image_model(w, "cuda"))):
        torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        build(resolve_weights(SPECS[key], "random"))
        out[name] = {"seconds": time.perf_counter() - t0, "gib": torch.cuda.max_memory_allocated() / GIB}
    return out


def run_render(graph: str, frames: int) -> dict:
    """``rotograph render`` of a shipped graph with random weights: it finishes and writes EXRs."""
    out_dir = tempfile.mkdtemp(prefix="rotograph-render-")
    sets = {"read.file": json.dumps(os.path.join(FOOTAGE, "01_dog.mp4")), "track.weights": '"random"',
            "write.file": json.dumps(os.path.join(out_dir, "out.####.exr"))}
    sets.update({"matanyone.weights": '"random"', "track.text": '"dog"'} if "sam3_matte" in graph
                else {"depth.weights": '"random"'})
    cmd = [sys.executable, "-m", "rotograph.cli", "render", os.path.join(ROOT, "graphs", graph), "-q",
           "--frames", f"1001-{1000 + frames}", "--cache", os.path.join(out_dir, "cache")]
    for k, v in sets.items():
        cmd += ["--set", f"{k}={v}"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    written = sorted(f for f in os.listdir(out_dir) if f.endswith(".exr"))
    return {"rc": proc.returncode, "seconds": time.perf_counter() - t0, "exrs": len(written),
            "error": proc.stderr.strip().splitlines()[-1:] if proc.returncode else []}


RUNS = {"upstream": run_upstream, "sam3track": run_sam3track, "weights": run_weights, "builds": run_builds,
        "render": run_render}


def _child(name: str, *args) -> dict:
    """Run one measurement in a fresh process and return its result."""
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--run", name, *map(str, args)],
                          capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"failed": (proc.stderr.strip().splitlines() or ["no output"])[-1]}


def _ratio(a, b) -> str:
    return f"{a / b:.2f}x" if a and b else "n/a"


def main(argv: list[str]) -> int:
    try:
        import torch
    except ImportError:
        print("gpu-check: PyTorch is not installed (pip install torch with CUDA); nothing measured")
        return 2
    if not torch.cuda.is_available():
        print(f"gpu-check: no CUDA GPU visible (torch {torch.__version__}, CUDA build {torch.version.cuda or 'none'}): "
              "nothing measured; run it on a GPU machine (see ../shared/gpu/README.md)")
        return 2
    if argv[:1] == ["--run"]:
        name, args = argv[1], argv[2:]
        fn = RUNS[name]
        typed = [int(a) if a.isdigit() else (a == "True") if a in ("True", "False") else a for a in args]
        print("RESULT " + json.dumps(fn(*typed)), flush=True)
        return 0
    quick = "--quick" in argv
    lengths = (48, 96) if quick else (289, 1000)
    chunk = 16 if quick else 64
    work = tempfile.mkdtemp(prefix="rotograph-gpu-check-")
    print(f"GPU: {torch.cuda.get_device_name(0)}, torch {torch.__version__}; clips of {lengths} frames, chunks of {chunk}")
    print("timings are wall clock on this machine; memory is torch's peak allocation and the process's peak RSS")
    clips = {n: _clip(n, os.path.join(work, f"clip{n}")) for n in lengths}
    table, failures = {}, 0
    for n in lengths:
        for mode in ("text", "points"):
            up = _child("upstream", mode, clips[n])
            ours = _child("sam3track", mode, clips[n], chunk)
            table[(n, mode)] = ours
            if "failed" in up or "failed" in ours:
                print(f"{mode:6s} {n:5d} frames: FAILED upstream={up.get('failed')} sam3track={ours.get('failed')}")
                failures += 1
                continue
            print(f"{mode:6s} {n:5d} frames: upstream {up['fps']:.2f} fps, {up['gpu_peak_gib'][0]:.2f} GiB GPU, "
                  f"{up['rss_peak_gib']:.2f} GiB RSS | SAM3Track {ours['fps']:.2f} fps "
                  f"({_ratio(ours['fps'], up['fps'])} upstream; target >= 1.0x), GPU per chunk "
                  f"{min(ours['gpu_peak_gib']):.2f}-{max(ours['gpu_peak_gib']):.2f} GiB, {ours['rss_peak_gib']:.2f} GiB RSS")
            print(f"         SAM3Track peak GPU per chunk (GiB): {' '.join(f'{p:.2f}' for p in ours['gpu_peak_gib'])}")
    short, long = lengths
    for mode in ("text", "points"):
        a, b = table.get((short, mode), {}), table.get((long, mode), {})
        if "fps" in a and "fps" in b:
            print(f"{mode:6s} SAM3Track {long} vs {short} frames: GPU peak {_ratio(max(b['gpu_peak_gib']), max(a['gpu_peak_gib']))}, "
                  f"host RSS {_ratio(b['rss_peak_gib'], a['rss_peak_gib'])} (target <= 1.1x)")
    for offload in (True, False):
        r = _child("sam3track", "points", clips[short], chunk, offload)
        if "failed" in r:
            print(f"offload={offload}: FAILED {r['failed']}")
            failures += 1
        else:
            print(f"tracker offload={offload}: {r['fps']:.2f} fps, GPU {max(r['gpu_peak_gib']):.2f} GiB, "
                  f"RSS {r['rss_peak_gib']:.2f} GiB ({short} frames, 3 objects)")
    w = _child("weights", clips[short])
    print(f"SAM 3 weights (random, saved as sam3.pt in a HF cache): {json.dumps(w)}")
    failures += "failed" in w or not all(w.get(k, {}).get("equal") for k in ("hf_id", "local_file"))
    b = _child("builds")
    print(f"full-size builds, random weights: {json.dumps(b)}")
    failures += "failed" in b
    for graph in ("sam3_matte.json", "depth_layers.json"):
        r = _child("render", graph, 24 if not quick else 8)
        print(f"rotograph render graphs/{graph} (random weights): {json.dumps(r)}")
        failures += r.get("rc") != 0 or not r.get("exrs")
    print(f"gpu-check: {'all steps ran' if not failures else f'{failures} step(s) failed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
