"""A test double of ``sam3``'s video predictor: the same request API (``handle_request`` with
start_session / add_prompt / close_session, ``handle_stream_request`` with propagate_in_video,
outputs ``out_obj_ids``, ``out_probs``, ``out_boxes_xywh``, ``out_binary_masks``), with a
colour tracker instead of the network. It records sessions and prompts so tests can check the
node's chunking and re-seeding."""

from __future__ import annotations

import os
import uuid

import cv2
import numpy as np


class FakeSam3VideoPredictor:
    def __init__(self):
        self.sessions: dict[str, dict] = {}
        self.log: list[dict] = []  # every request, in order
        self.max_frames = 0

    def handle_request(self, request):
        self.log.append(request)
        kind = request["type"]
        if kind == "start_session":
            path = request["resource_path"]
            files = sorted(f for f in os.listdir(path) if f.endswith(".jpg"))
            frames = [cv2.cvtColor(cv2.imread(os.path.join(path, f)), cv2.COLOR_BGR2RGB) for f in files]
            sid = str(uuid.uuid4())
            self.sessions[sid] = {"frames": frames, "seeds": {}, "text": None}
            self.max_frames = max(self.max_frames, len(frames))
            return {"session_id": sid}
        session = self.sessions[request["session_id"]]
        if kind == "add_prompt":
            frame = session["frames"][request["frame_index"]]
            h, w = frame.shape[:2]
            if request.get("points") is not None:
                assert request.get("obj_id") is not None, "points need obj_id (as in sam3)"
                x, y = request["points"][request["point_labels"].index(1)]
                assert 0 <= x <= 1 and 0 <= y <= 1, "sam3 takes relative coordinates"
                colour = frame[int(y * h), int(x * w)].astype(int)
                session["seeds"][request["obj_id"]] = (request["frame_index"], colour)
            elif request.get("text"):
                session["text"] = request["text"]
            return {"frame_index": request["frame_index"], "outputs": {}}
        if kind == "close_session":
            self.sessions.pop(request["session_id"], None)
            return {"is_success": True}
        raise RuntimeError(f"invalid request type: {kind}")

    def handle_stream_request(self, request):
        self.log.append(request)
        session = self.sessions[request["session_id"]]
        frames = session["frames"]
        start = request.get("start_frame_index") or 0
        if session["text"] and not session["seeds"]:  # concept: every saturated blob, ids by x
            blobs = _blobs(frames[start])
            for i, (_, colour) in enumerate(sorted(blobs, key=lambda b: b[0])):
                session["seeds"][i + 1] = (start, colour)
        for i in range(start, len(frames)):
            ids, masks = [], []
            for oid, (f0, colour) in sorted(session["seeds"].items()):
                if i < f0:
                    continue
                m = np.abs(frames[i].astype(int) - colour).max(axis=-1) < 50  # JPEG blurs the edges
                ids.append(oid)
                masks.append(m)
            h, w = frames[i].shape[:2]
            yield {"frame_index": i, "outputs": {
                "out_obj_ids": np.array(ids, np.int64), "out_probs": np.full(len(ids), 0.9, np.float32),
                "out_boxes_xywh": np.zeros((len(ids), 4), np.float32),
                "out_binary_masks": np.array(masks, bool).reshape(len(ids), h, w)}}


def _blobs(frame):
    hsv = cv2.cvtColor(frame, cv2.COLOR_RGB2HSV)
    sat = (hsv[..., 1] > 120).astype(np.uint8)
    n, lab, stats, cents = cv2.connectedComponentsWithStats(sat)
    out = []
    for k in range(1, n):
        if stats[k, cv2.CC_STAT_AREA] > 30:
            ys, xs = np.nonzero(lab == k)
            out.append((cents[k][0], frame[ys[len(ys) // 2], xs[len(xs) // 2]].astype(int)))
    return out


class FakeSam3Processor:
    """Follows ``sam3.model.sam3_image_processor.Sam3Processor``: ``set_image`` → state,
    ``set_text_prompt(prompt, state)`` and ``add_geometric_prompt(box_cxcywh_01, label, state)``
    → state with ``masks`` (N×1×H×W bool), ``boxes``, ``scores``. Saturated blobs are the
    concept's instances; an exemplar box keeps the blobs of the colour inside it."""

    def __init__(self):
        self.calls = []

    def set_image(self, image, state=None):
        self.calls.append("set_image")
        state = {} if state is None else state
        state["image"] = np.asarray(image)
        state["original_height"], state["original_width"] = state["image"].shape[:2]
        return state

    def _ground(self, state, keep):
        img = state["image"]
        masks, scores = [], []
        for k, (cx, colour) in enumerate(sorted(_blobs(img), key=lambda b: b[0])):
            if keep(colour):
                masks.append(np.abs(img.astype(int) - colour).max(axis=-1) < 50)
                scores.append(0.9 - 0.1 * k)
        h, w = img.shape[:2]
        state["masks"] = np.array(masks, bool).reshape(len(masks), 1, h, w)
        state["scores"] = np.array(scores, np.float32)
        state["boxes"] = np.zeros((len(masks), 4), np.float32)
        return state

    def set_text_prompt(self, prompt, state):
        self.calls.append(("text", prompt))
        return self._ground(state, lambda colour: True)

    def add_geometric_prompt(self, box, label, state):
        self.calls.append(("box", list(box), label))
        assert len(box) == 4 and all(0 <= v <= 1 for v in box), "sam3 boxes are cx, cy, w, h in 0..1"
        img = state["image"]
        h, w = img.shape[:2]
        ref = img[int(box[1] * h), int(box[0] * w)].astype(int)
        return self._ground(state, lambda colour: np.abs(colour - ref).max() < 50)
