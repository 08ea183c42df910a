"""Re-acquisition of a lost object (hidden, or out of frame), the second half of
:class:`~._tracking.ObjectTrack`: each frame while it is lost, first where it should be (its
whole extent carried along its last motion, cut out with the appearance model), then over the
frame by its appearance — windows of its size whose colours match (an integral-histogram
search, preferring where its last motion leads, more widely the longer it is lost; a penalty
where something of similar colours was already refused: distractors) are cut out with
GrabCut, and a cut whose size and colours agree is the object again, with its id."""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from ._cuts import grabcut, graph_cut, keep_supported, on_edge
from ..common._imaging import dilate_mask, resize
from ._motion import Motion

if TYPE_CHECKING:
    from ._frame import WorkFrame

FOUND_SCORE = 0.8     # a search window's colour similarity, as a share of the keyframe box's
FOUND_AREA = 0.2      # a re-found object's area, as a share of the reference area (edge: half)
FOUND_COLOUR = 0.93   # a re-found object's colour similarity, as a share of the keyframe's
SEARCH_WINDOWS = 3    # candidate windows cut out per searched frame
MAX_DISTRACTORS = 32  # refused windows remembered while an object is lost
DISTRACTOR_COLOUR = 0.7  # a window cut under this colour similarity (share of the keyframe's): distractor
SEARCH_WINDOW_PX = 16  # the object's short side in the search's small copy of the frame


class Reacquisition:
    """Mixed into :class:`~._tracking.ObjectTrack` (uses its state: ``model``, ``full``,
    ``centre``, ``velocity``, ``ref_*``, ``lost_for``, ``distractors``)."""

    def _at_prediction(self, frame: WorkFrame, motion: Motion) -> bool:
        """While lost, first look where the object should be: its whole extent carried along
        its last motion (``self.full``), cut out with the appearance model's graph cut; found
        when the cut's size and colours agree with the object's."""
        if self.full is None or self.full.sum() < 16:
            return False
        reach = max(2, int(self.band + np.hypot(*self.velocity)))
        tri = np.full(frame.shape, cv2.GC_BGD, np.uint8)
        tri[dilate_mask(self.full, reach)] = cv2.GC_PR_BGD
        tri[self.full] = cv2.GC_PR_FGD
        cut = graph_cut(frame.rgb8, tri, self.model, iterations=2)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(cut.astype(np.uint8), connectivity=8)
        if n < 2:
            return False
        cut = labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        area = float(cut.sum())
        if not FOUND_AREA * (0.5 if on_edge(cut) else 1.0) * self.ref_area <= area <= 1.5 * self.ref_area:
            return False
        if self.model.similarity(frame.rgb8[cut]) < FOUND_COLOUR * self.ref_colour:
            return False
        self._found(frame, cut, reference=False)
        return True

    def _search(self, frame: WorkFrame, motion: Motion) -> None:
        """Look for the object over the whole frame by its appearance: the few windows of its
        size whose colours match its best (a mild preference for where its last motion leads)
        are each cut out by a graph cut, and the best cut whose size and colours agree wins."""
        h, w = frame.shape
        bw, bh = (int(max(3, min(v, lim))) for v, lim in zip(self.ref_size, (w, h)))
        k = min(1.0, max(0.1, SEARCH_WINDOW_PX / min(bw, bh)))  # the search runs on a small copy
        small = resize(frame.rgb8, k)
        sbw, sbh = max(3, round(bw * k)), max(3, round(bh * k))
        sim, inside = self.model.window_similarity(small, (sbw, sbh))
        sim[inside < 0.4] = 0
        sh, sw = sim.shape
        gy, gx = np.mgrid[0:sh, 0:sw].astype(np.float32)
        sigma = max(sbw, sbh) * (1.0 + 0.5 * self.lost_for)
        near = np.exp(-((gx - self.centre[0] * k) ** 2 + (gy - self.centre[1] * k) ** 2) / (2 * sigma ** 2))
        score = np.where(sim >= FOUND_SCORE * self.ref_score, sim * (0.7 + 0.3 * near), 0)
        for dx, dy in self.distractors:  # something else of similar colours, seen while lost
            score[max(0, int(dy * k) - sbh // 2):int(dy * k) + sbh // 2 + 1,
                  max(0, int(dx * k) - sbw // 2):int(dx * k) + sbw // 2 + 1] *= 0.5
        post = self.model.posterior(frame.rgb8, against=frame.rgb8[::3, ::3])
        best, best_colour = None, FOUND_COLOUR * self.ref_colour
        for _ in range(SEARCH_WINDOWS):
            y, x = np.unravel_index(int(np.argmax(score)), score.shape)
            if score[y, x] <= 0:
                break
            x0, y0 = int((x - sbw / 2) / k), int((y - sbh / 2) / k)
            score[max(0, y - sbh // 2):y + sbh // 2 + 1, max(0, x - sbw // 2):x + sbw // 2 + 1] = 0
            window = np.zeros((h, w), bool)
            window[max(0, y0):max(0, y0 + bh), max(0, x0):max(0, x0 + bw)] = True
            if (window & (post > 0.5)).sum() < 0.5 * FOUND_AREA * self.ref_area:
                continue  # too little of the object's colours to cut out
            cut, colour = self._cut_window(frame, post, window)
            if cut is not None and colour > best_colour:
                best, best_colour = cut, colour
            elif colour < DISTRACTOR_COLOUR * self.ref_colour and len(self.distractors) < MAX_DISTRACTORS:
                self.distractors.append((x / k, y / k))  # not the object, nor a part of it
        if best is None:
            self._lose(frame.shape)
            return
        reach = max(bw, bh) // 4
        refined = self._refine_by_motion(frame, best, dilate_mask(best, reach), motion, margin=reach)
        if refined.sum() >= FOUND_AREA * self.ref_area and refined.sum() <= 2.5 * self.ref_area:
            best = keep_supported(refined, best)
        self._found(frame, best, reference=False)

    def _cut_window(self, frame: WorkFrame, post: np.ndarray, window: np.ndarray):
        """The largest part cut out of a search window and its colour similarity to the object
        (0 when nothing is cut); the part is None when its size does not agree with the
        object's."""
        h, w = frame.shape
        bw, bh = self.ref_size
        tri = np.full((h, w), cv2.GC_BGD, np.uint8)
        tri[dilate_mask(window, max(2, int(0.1 * max(bw, bh))))] = cv2.GC_PR_BGD
        tri[window & (post > 0.5)] = cv2.GC_PR_FGD
        cut = grabcut(frame.rgb8, tri, 2, margin=max(bw, bh) // 4)  # this frame's colours around it
        n, labels, stats, _ = cv2.connectedComponentsWithStats(cut.astype(np.uint8), connectivity=8)
        if n < 2:
            return None, 0.0
        cut = labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        area, colour = float(cut.sum()), self.model.similarity(frame.rgb8[cut])
        if not FOUND_AREA * (0.5 if on_edge(cut) else 1.0) * self.ref_area <= area <= 2.5 * self.ref_area:
            return None, colour
        return cut, colour
