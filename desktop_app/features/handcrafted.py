"""Object-centred hand-crafted descriptors: HOG + silhouette (appearance), HOF + MBH + trajectory (motion).

These are the dense-trajectory descriptors (Wang et al.; the "Dense Trajectory" / "idt" baselines
of seed 000 Table II and seed 002 §2 and Table 4: HOG, HOF and MBH computed in space-time
volumes that follow tracked points, with the camera motion removed from the flow in the
*improved* version, plus the trajectory's own shape) adapted to one descriptor per sampled
frame, computed in a box that follows the clip's *dominant object*
(:func:`track_dominant_object`):

* appearance (161): HOG of the box (4 × 4 cells × 9 bins) and colour-free silhouette measures
  (Hu moments, fill, holes, elongation, Fourier magnitudes of the outline);
* motion (163): HOF of the box's camera-compensated flow, HOF + MBHx + MBHy of that flow minus
  the object's own mean motion (rotation, deformation), on 2 × 2 cells; and kinematics: the
  box's displacement relative to the camera over a window of steps (the trajectory shape),
  position, scale change, curl / divergence of its flow and the shift of its orientation
  histogram (rotation).

An earlier version described the whole frame on a 4 × 4 grid; small actors anywhere in the frame
are invisible to such a grid, and on the demo dataset adding it back lowered the linear-probe
accuracy of every target (see ``docs/features.md``). Colour is never a descriptor: it is used
only, as a colour *distance*, to find where an object stands out from its surroundings.

``cv2.HOGDescriptor`` is absent from opencv-python-headless 5, so every histogram is built from
``cv2.Sobel`` / ``cv2.cartToPolar`` and one ``np.bincount`` over (cell, bin) indices. Each
histogram block is L1-normalised and square-rooted (Hellinger / RootSIFT), so blocks weigh alike
and magnitudes stay bounded before PCA.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Bumped whenever a change here changes the numbers an extraction produces (recorded in the store).
DESCRIPTOR_VERSION = 2

HOG_BINS = 9
HOF_BINS = 8
MBH_BINS = 8
#: Flow slower than this (pixels per sampled step) falls into HOF's no-motion bin.
HOF_STILL_THRESHOLD = 0.5

#: Side of the square, resampled object box, in pixels.
CROP = 32
#: Cells per side of the object box's HOG (8 × 8 px cells) and of its HOF / MBH.
CROP_HOG_GRID = 4
CROP_FLOW_GRID = 2
#: Steps (before and after) whose camera-compensated displacement describes the trajectory.
TRAJECTORY_OFFSETS = (-4, -2, -1, 1, 2, 4)
#: Radial bins of the silhouette's outline and how many Fourier magnitudes of it are kept.
RADIAL_BINS = 16
RADIAL_HARMONICS = 6

SHAPE_DIM = 7 + 4 + RADIAL_HARMONICS
OBJECT_APPEARANCE_DIM = CROP_HOG_GRID**2 * HOG_BINS + SHAPE_DIM
APPEARANCE_DIM = OBJECT_APPEARANCE_DIM

#: Orientation-histogram shifts between consecutive boxes (a rotation cue), in HOG bins.
ROTATION_SHIFTS = (-2, -1, 0, 1, 2)
#: Trajectory window, position, scale change and size, curl / divergence / own motion, rotation
#: shifts, change of elongation and fill.
KINEMATICS_DIM = 2 * len(TRAJECTORY_OFFSETS) + 2 + 2 + 4 + len(ROTATION_SHIFTS) + 2
OBJECT_MOTION_DIM = 2 * CROP_FLOW_GRID**2 * (HOF_BINS + 1) + 2 * CROP_FLOW_GRID**2 * MBH_BINS + KINEMATICS_DIM
MOTION_DIM = OBJECT_MOTION_DIM


class _CellIndex:
    """Cell number of every pixel for one frame size and grid, cached (a run shares few sizes)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, int, int, int], np.ndarray] = {}

    def __call__(self, height: int, width: int, n_bins: int, grid: int) -> np.ndarray:
        """``cell * n_bins`` per pixel, flattened: add a bin number to get a histogram slot."""
        key = (height, width, n_bins, grid)
        if key not in self._cache:
            rows = np.minimum(np.arange(height) * grid // height, grid - 1)
            cols = np.minimum(np.arange(width) * grid // width, grid - 1)
            cells = (rows[:, None] * grid + cols[None, :]).ravel().astype(np.intp)
            self._cache[key] = cells * n_bins
        return self._cache[key]


_cells = _CellIndex()


def _root_normalise(hist: np.ndarray) -> np.ndarray:
    """L1-normalise each row, then square root (Hellinger kernel)."""
    total = hist.sum(axis=-1, keepdims=True)
    return np.sqrt(hist / np.maximum(total, 1e-9)).astype(np.float32)


def _grid_histogram(bins: np.ndarray, weights: np.ndarray, n_bins: int, grid: int) -> np.ndarray:
    """Per-cell weighted histograms, ``(grid*grid, n_bins)``; ``bins`` is a uint8 image of bin numbers."""
    slots = _cells(bins.shape[0], bins.shape[1], n_bins, grid) + bins.ravel()
    flat = np.bincount(slots, weights=weights.ravel(), minlength=grid * grid * n_bins)
    return flat.reshape(grid * grid, n_bins)


def _angle_bins(angle: np.ndarray, n_bins: int, span: float) -> np.ndarray:
    """``floor(angle / span * n_bins) mod n_bins`` as uint8, with OpenCV's fast saturating convert.

    ``convertScaleAbs`` rounds ``|a·x − ½|``, which is ``floor(a·x)`` for ``a·x ≥ 0``.
    """
    import cv2

    bins = cv2.convertScaleAbs(angle, alpha=n_bins / span, beta=-0.5)
    bins[bins >= n_bins] -= n_bins  # unsigned HOG folds 180–360° onto 0–180°; 360° itself wraps
    np.minimum(bins, n_bins - 1, out=bins)
    return bins


def _orientation_histogram(
    dx: np.ndarray, dy: np.ndarray, n_bins: int, signed: bool, grid: int
) -> np.ndarray:
    import cv2

    magnitude, angle = cv2.cartToPolar(dx, dy, angleInDegrees=True)
    bins = _angle_bins(angle, n_bins, 360.0 if signed else 180.0)
    return _grid_histogram(bins, magnitude, n_bins, grid)


def _hog(gray: np.ndarray, grid: int) -> np.ndarray:
    """Raw (unnormalised) HOG, ``(grid*grid, HOG_BINS)``, of a float32 gray image."""
    import cv2

    dx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=1)
    dy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=1)
    return _orientation_histogram(dx, dy, HOG_BINS, signed=False, grid=grid)


def _flow_histograms(flow: np.ndarray, grid: int) -> list[np.ndarray]:
    """HOF (8 bins + no-motion bin), MBHx and MBHy of a flow field on a ``grid × grid`` grid, normalised."""
    import cv2

    u = np.ascontiguousarray(flow[..., 0])
    v = np.ascontiguousarray(flow[..., 1])
    magnitude, angle = cv2.cartToPolar(u, v, angleInDegrees=True)
    moving = magnitude >= HOF_STILL_THRESHOLD
    bins = _angle_bins(angle, HOF_BINS, 360.0)
    bins[~moving] = HOF_BINS
    # moving pixels vote their speed; still pixels vote one each into the no-motion bin
    hof = _grid_histogram(bins, np.where(moving, magnitude, 1.0), HOF_BINS + 1, grid)
    blocks = [_root_normalise(hof).ravel()]
    for component in (u, v):
        gx = cv2.Sobel(component, cv2.CV_32F, 1, 0, ksize=1)
        gy = cv2.Sobel(component, cv2.CV_32F, 0, 1, ksize=1)
        mbh = _orientation_histogram(gx, gy, MBH_BINS, signed=True, grid=grid)
        blocks.append(_root_normalise(mbh).ravel())
    return blocks


# ----------------------------------------------------------------------------- object tracking
@dataclass
class ObjectTrack:
    """The dominant object's box at every sampled frame, in working-frame pixels.

    Attributes
    ----------
    centres
        ``(T, 2)`` box centres (x, y).
    sides
        ``(T,)`` side of the square box.
    camera
        ``(T, 2)`` the camera's motion from step ``t`` to ``t + 1`` (median flow; 0 at the end).
    """

    centres: np.ndarray
    sides: np.ndarray
    camera: np.ndarray


def camera_motion(flow: np.ndarray) -> np.ndarray:
    """The global (camera) motion of a flow field: its median x and y displacement, ``(2,)``.

    The median of a subsampled field is robust to the objects as long as the background covers
    most of the frame (improved dense trajectories estimate a homography instead; a pan is what
    the median captures, and it is what hand-held and panning video mostly shows).
    """
    sample = flow[::4, ::4].reshape(-1, 2)
    return np.median(sample, axis=0).astype(np.float32)


def _saliency(frame_bgr: np.ndarray, residual_speed: np.ndarray | None) -> np.ndarray:
    """Where something stands out at half resolution: colour contrast to its surround + own motion.

    Contrast is the colour *distance* of each pixel from a box-blurred surround (any hue scores
    alike); motion is the flow speed left after removing the camera's. Each is scaled to [0, 1]
    over the frame, with floors so that a plain frame or a still one does not amplify noise.
    """
    import cv2

    h, w = frame_bgr.shape[:2]
    small = cv2.resize(frame_bgr, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
    k = max(3, (min(small.shape[:2]) // 4) | 1)
    # centre–surround (difference of box filters): the centre blur removes pixel noise, the
    # surround is about an object's size, so large smooth shading and fine texture score low
    centre = cv2.blur(small, (3, 3)).astype(np.float32)
    surround = cv2.blur(small, (k, k)).astype(np.float32)
    contrast = np.abs(centre - surround).sum(axis=2)
    contrast -= float(np.median(contrast))  # the texture floor
    np.maximum(contrast, 0.0, out=contrast)
    contrast /= max(float(contrast.max()), 30.0)
    if residual_speed is None:
        return contrast
    motion = np.asarray(
        cv2.resize(residual_speed, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA), np.float32
    )
    motion /= max(float(motion.max()), 2.0)  # below 2 px per step counts as weak motion
    # contrast leads: a still but salient actor (spinning, growing) beats a faint moving distractor
    return contrast + 0.5 * motion


def track_dominant_object(frames_bgr: list[np.ndarray], flows: list[np.ndarray]) -> ObjectTrack:
    """Follow the most salient region of a clip from frame to frame (a one-object tracker).

    At each sampled frame the saliency map (:func:`_saliency`: contrast + camera-compensated
    motion) is thresholded at 40 % of its maximum; among the connected regions the one with the
    largest saliency mass, discounted by its distance from the previous centre, is the object.
    Its saliency-weighted centroid is the box centre and 1.5 × its larger extent (at least 12 px)
    the box side. A frame with no region keeps the previous box.

    Parameters
    ----------
    frames_bgr
        The ``T`` sampled frames.
    flows
        The ``T - 1`` flow fields between consecutive frames (frame ``t`` uses flow ``t``, the last
        frame the flow before it).
    """
    import cv2

    n = len(frames_bgr)
    h, w = frames_bgr[0].shape[:2]
    centres = np.zeros((n, 2), np.float32)
    sides = np.zeros(n, np.float32)
    camera = np.zeros((n, 2), np.float32)
    previous = np.array([w / 2.0, h / 2.0], np.float32)
    previous_side = float(max(12.0, min(h, w) / 4.0))
    reach = 0.3 * float(np.hypot(h, w))
    ys, xs = (i.ravel() for i in np.indices((max(1, h // 2), max(1, w // 2)), dtype=np.float32))
    for t, frame in enumerate(frames_bgr):
        residual_speed = None
        if flows:
            flow = flows[min(t, len(flows) - 1)]
            shift = camera_motion(flow)
            if t < len(flows):
                camera[t] = shift
            residual = flow - shift
            residual_speed = np.sqrt(residual[..., 0] ** 2 + residual[..., 1] ** 2)
        saliency = _saliency(frame, residual_speed)
        mask = (saliency >= 0.2 * max(float(saliency.max()), 1e-6)).astype(np.uint8)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        if count <= 1 or saliency.max() <= 0:
            centres[t], sides[t] = previous, previous_side
            continue
        flat = labels.ravel()
        weights = saliency.ravel()
        mass = np.bincount(flat, weights=weights, minlength=count)[1:]
        cx = np.bincount(flat, weights=weights * xs, minlength=count)[1:] / np.maximum(mass, 1e-9)
        cy = np.bincount(flat, weights=weights * ys, minlength=count)[1:] / np.maximum(mass, 1e-9)
        # half-resolution map: centre of pixel (i, j) is (2i + 0.5, 2j + 0.5) in frame pixels
        cx, cy = 2.0 * cx + 0.5, 2.0 * cy + 0.5
        distance = np.hypot(cx - previous[0], cy - previous[1]) if t else np.zeros_like(cx)
        best = int(np.argmax(mass / (1.0 + distance / reach)))
        area = 4.0 * float(stats[best + 1, cv2.CC_STAT_AREA])  # in frame pixels
        previous = np.array([cx[best], cy[best]], np.float32)
        previous_side = float(np.clip(1.6 * np.sqrt(area), 12.0, 0.6 * min(h, w)))
        centres[t], sides[t] = previous, previous_side
    # a running median over 5 steps removes one-frame slips of the box size without hiding the
    # steady change of a growing or shrinking object
    padded = np.pad(sides, 2, mode="edge")
    sides = np.median(np.lib.stride_tricks.sliding_window_view(padded, 5), axis=1).astype(np.float32)
    return ObjectTrack(centres, sides, camera)


def _box_transform(centre: np.ndarray, side: float) -> np.ndarray:
    """The affine map from working-frame pixels to a ``CROP × CROP`` box around ``centre``."""
    scale = CROP / side
    return np.array(
        [[scale, 0.0, CROP / 2.0 - scale * centre[0]], [0.0, scale, CROP / 2.0 - scale * centre[1]]],
        np.float32,
    )


def _crop(image: np.ndarray, transform: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.warpAffine(
        image, transform, (CROP, CROP), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


# ------------------------------------------------------------------------- object appearance
@dataclass
class _BoxView:
    """What the appearance pass learned about one box, reused by the motion pass."""

    mask: np.ndarray  # (CROP, CROP) bool silhouette
    orientation_histogram: np.ndarray  # (HOG_BINS,) whole-box gradient orientations
    shape: np.ndarray  # (SHAPE_DIM,)
    hog: np.ndarray  # (CROP_HOG_GRID**2 * HOG_BINS,)


def _silhouette(crop_bgr: np.ndarray) -> np.ndarray:
    """Pixels whose colour is far from the box border's median colour (Otsu threshold), as bool."""
    import cv2

    border = np.concatenate([crop_bgr[0], crop_bgr[-1], crop_bgr[:, 0], crop_bgr[:, -1]])
    surround = np.median(border, axis=0)
    distance = np.abs(crop_bgr.astype(np.float32) - surround).sum(axis=2)
    scaled = cv2.convertScaleAbs(distance, alpha=255.0 / max(float(distance.max()), 1.0))
    _, mask = cv2.threshold(scaled, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return mask.astype(bool)


def _shape_descriptor(mask: np.ndarray) -> np.ndarray:
    """Colour-free silhouette measures, ``(SHAPE_DIM,)``: Hu moments, fill, holes, elongation, outline.

    * 7 Hu moments, ``sign(h) · log10(1 + |h| / 1e-7) / 7`` (invariant to position, scale and
      rotation);
    * fill (silhouette area / box area), hole fraction (enclosed background / filled area),
      elongation (1 − minor/major axis ratio of the second moments) and extent along the axes;
    * the first ``RADIAL_HARMONICS`` Fourier magnitudes of the outline's radius over
      ``RADIAL_BINS`` angles, divided by the mean radius (rotation-invariant shape of the outline:
      a disc is flat, a star has a peak at its number of points).
    """
    import cv2

    mask_u8 = mask.astype(np.uint8)
    area = float(mask_u8.sum())
    out = np.zeros(SHAPE_DIM, np.float32)
    if area < 3:
        return out
    moments = cv2.moments(mask_u8, binaryImage=True)
    hu = cv2.HuMoments(moments).ravel()
    # a signed log that is continuous through 0: the higher Hu moments of symmetric shapes are
    # ~0 with a noisy sign, which a plain sign·log|h| would blow up to ±large
    out[:7] = np.sign(hu) * np.log10(1.0 + np.abs(hu) / 1e-7) / 7.0
    # holes: background pixels not reachable from the border
    filled = mask_u8.copy()
    flood = np.zeros((CROP + 2, CROP + 2), np.uint8)
    background = (1 - mask_u8).copy()
    cv2.floodFill(background, flood, (0, 0), 0)
    filled = mask_u8 | background
    mu20, mu02, mu11 = moments["mu20"] / area, moments["mu02"] / area, moments["mu11"] / area
    spread = np.sqrt(max((mu20 - mu02) ** 2 + 4 * mu11**2, 0.0))
    major, minor = mu20 + mu02 + spread, max(mu20 + mu02 - spread, 0.0)
    out[7] = area / mask.size
    out[8] = float(background.sum()) / max(float(filled.sum()), 1.0)
    out[9] = 1.0 - np.sqrt(minor / major) if major > 0 else 0.0
    out[10] = float(np.sqrt(major)) / CROP
    ys, xs = np.nonzero(mask_u8)
    dx, dy = xs - moments["m10"] / area, ys - moments["m01"] / area
    radius = np.hypot(dx, dy)
    sector = ((np.arctan2(dy, dx) + np.pi) / (2 * np.pi) * RADIAL_BINS).astype(np.intp) % RADIAL_BINS
    outline = np.zeros(RADIAL_BINS)
    np.maximum.at(outline, sector, radius)
    spectrum = np.abs(np.fft.rfft(outline))
    out[11:] = spectrum[1 : 1 + RADIAL_HARMONICS] / max(spectrum[0], 1e-6)
    return out


def _view_box(frame_bgr: np.ndarray, transform: np.ndarray) -> _BoxView:
    crop = _crop(frame_bgr, transform)
    gray = crop.astype(np.float32) @ np.array([0.114, 0.587, 0.299], np.float32)
    hog = _hog(np.ascontiguousarray(gray), CROP_HOG_GRID)
    mask = _silhouette(crop)
    return _BoxView(mask, hog.sum(axis=0), _shape_descriptor(mask), _root_normalise(hog).ravel())


# ------------------------------------------------------------------------------ the sequences
def _object_motion(
    flow: np.ndarray,
    camera: np.ndarray,
    transform: np.ndarray,
    side: float,
    view: _BoxView,
    next_view: _BoxView,
) -> tuple[list[np.ndarray], np.ndarray]:
    """HOF/MBH of the box's camera-compensated flow and of its own-motion-removed flow, plus kinematics."""
    import cv2

    scale = CROP / side
    box_flow = _crop(flow - camera, transform) * scale  # in box pixels per step
    inside = view.mask if view.mask.any() else np.ones_like(view.mask)
    own = box_flow[inside].mean(axis=0)
    blocks = _flow_histograms(box_flow, CROP_FLOW_GRID)[:1]  # HOF of the box's motion
    blocks += _flow_histograms(box_flow - own, CROP_FLOW_GRID)  # HOF + MBH of its deformation
    u = np.ascontiguousarray(box_flow[..., 0])
    v = np.ascontiguousarray(box_flow[..., 1])
    curl = cv2.Sobel(v, cv2.CV_32F, 1, 0, ksize=1) - cv2.Sobel(u, cv2.CV_32F, 0, 1, ksize=1)
    divergence = cv2.Sobel(u, cv2.CV_32F, 1, 0, ksize=1) + cv2.Sobel(v, cv2.CV_32F, 0, 1, ksize=1)
    # rotation cue: how far the box's orientation histogram shifted from this frame to the next
    a = np.sqrt(view.orientation_histogram / max(view.orientation_histogram.sum(), 1e-9))
    b = np.sqrt(next_view.orientation_histogram / max(next_view.orientation_histogram.sum(), 1e-9))
    shifts = [float(a @ np.roll(b, s)) for s in ROTATION_SHIFTS]
    rotation = np.asarray(shifts, np.float32) - max(shifts)
    local = np.array(
        [curl[inside].mean() / 2, divergence[inside].mean() / 2, *(np.tanh(own / 4.0))], np.float32
    )
    return blocks, np.concatenate([local, rotation])


def describe_clip(
    frames_bgr: list[np.ndarray], flows: list[np.ndarray], appearance: bool = True
) -> dict[str, np.ndarray]:
    """Appearance and motion sequences of one clip: ``{"appearance": (T, 161), "motion": (T, 163)}``.

    Step ``t`` of motion describes the flow ``t → t+1``; the last step repeats the one before it
    so that both streams have ``T`` rows (a one-frame clip gets the descriptor of zero flow).

    Parameters
    ----------
    frames_bgr
        The ``T`` sampled frames (uint8 BGR, working resolution).
    flows
        The ``T - 1`` flow fields between consecutive frames.
    appearance
        Also return the appearance stream (``False`` when another encoder supplies it).
    """
    n = len(frames_bgr)
    h, w = frames_bgr[0].shape[:2]
    if not flows:
        flows_used = [np.zeros((h, w, 2), np.float32)]
    else:
        flows_used = flows
    track = track_dominant_object(frames_bgr, flows)
    transforms = [_box_transform(track.centres[t], float(track.sides[t])) for t in range(n)]
    views = [_view_box(frames_bgr[t], transforms[t]) for t in range(n)]
    # the box's path with the camera's motion taken out, in units of the frame height
    path = np.zeros((n, 2), np.float32)
    for t in range(1, n):
        path[t] = path[t - 1] + track.centres[t] - track.centres[t - 1] - track.camera[t - 1]
    path /= h
    log_side = np.log(track.sides / h)
    motion_rows = []
    for t in range(n):
        step = min(t, len(flows_used) - 1)
        nxt = min(t + 1, n - 1)
        flow_blocks, local = _object_motion(
            flows_used[step], track.camera[step], transforms[t], float(track.sides[t]), views[t], views[nxt]
        )
        window = [path[int(np.clip(t + k, 0, n - 1))] - path[t] for k in TRAJECTORY_OFFSETS]
        kinematics = np.concatenate(
            [
                np.tanh(4.0 * np.concatenate(window)),
                [track.centres[t, 0] / w - 0.5, track.centres[t, 1] / h - 0.5],
                [log_side[nxt] - log_side[t], log_side[t] - float(np.median(log_side))],
                local,
                [views[t].shape[9] - views[nxt].shape[9], views[t].shape[7] - views[nxt].shape[7]],
            ]
        ).astype(np.float32)
        motion_rows.append(np.concatenate([*flow_blocks, kinematics]).astype(np.float32))
    if n > 1 and flows:
        motion_rows[-1] = motion_rows[-2]
    out = {"motion": np.stack(motion_rows)}
    if appearance:
        out["appearance"] = np.stack(
            [np.concatenate([views[t].hog, views[t].shape]) for t in range(n)]
        ).astype(np.float32)
    return out
