"""Object-centred hand-crafted descriptors: HOG + silhouette (appearance), HOF + MBH + trajectory (motion).

These are the dense-trajectory descriptors (Wang et al.; the "Dense Trajectory" / "idt" baselines
of seed 000 Table II and seed 002 §2 and Table 4: HOG, HOF and MBH computed in space-time
volumes that follow tracked points, with the camera motion removed from the flow in the
*improved* version, plus the trajectory's own shape) adapted to one descriptor per sampled
frame, computed in a box that follows the clip's *dominant object*
(:func:`track_dominant_object`):

* appearance (161): HOG of the box (4 × 4 cells × 9 bins) and colour-free silhouette measures
  (Hu moments, fill, holes, elongation, Fourier magnitudes of the outline);
* motion (190): HOF of the box's camera-compensated flow, HOF + MBHx + MBHy of that flow minus
  the object's own mean motion (rotation, deformation), on 2 × 2 cells; and kinematics: the
  box's displacement relative to the camera over a window of steps (the trajectory shape),
  position relative to the clip's mean position (never in the frame), scale change, curl / divergence of its flow and the shift of its orientation
  histogram (rotation);
* motion, object dynamics (27, descriptor version 5, :func:`_object_dynamics`): the object's
  own silhouette part inside the box, followed over the clip; velocity and acceleration of its
  path relative to the camera at two time scales, speed, turn and reversal, rates of its log
  area, aspect, axes and brightness contrast, and its in-plane rotation from a polar
  cross-correlation of tight boxes — only changes over time, never a level.

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
DESCRIPTOR_VERSION = 5

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
#: Trajectory window, position relative to the clip mean, scale change and size, curl / divergence / own motion, rotation
#: shifts, change of elongation and fill.
KINEMATICS_DIM = 2 * len(TRAJECTORY_OFFSETS) + 2 + 2 + 4 + len(ROTATION_SHIFTS) + 2
#: Angle and radius samples of the box's polar resampling (rotation between consecutive boxes).
POLAR_ANGLES = 64
POLAR_RADII = 16
#: Innermost polar radii left out of the rotation estimate (the centre barely moves when turning).
POLAR_SKIP = 2
#: Half-widths, in steps, of the local polynomial fits that give the derivatives (two time scales).
DERIVATIVE_HALF_WIDTHS = (1, 3)
#: Jump scale (fraction of the frame diagonal) of the choice of the object's part inside its box
#: (the tracker's own value).
PART_REACH = 0.3
#: Below this speed (frame heights per step) the direction of motion is noise.
STILL_SPEED = 0.003
#: Velocity (1 and 3 steps) and acceleration (1 and 3 steps) of the path, speeds (2), turn and
#: reversal, speed in box sides; log area rate (2) and its acceleration, log aspect rate (2),
#: log minor and major axis rates, brightness-contrast rate (2); rotation (5).
DYNAMICS_DIM = 8 + 2 + 2 + 1 + 3 + 2 + 2 + 2 + 5
OBJECT_MOTION_DIM = (
    2 * CROP_FLOW_GRID**2 * (HOF_BINS + 1) + 2 * CROP_FLOW_GRID**2 * MBH_BINS + KINEMATICS_DIM + DYNAMICS_DIM
)
MOTION_DIM = OBJECT_MOTION_DIM


class _BoxSlots:
    """Histogram slot base of every pixel of a stack of ``CROP × CROP`` boxes, cached by shape.

    Pixel ``p`` of box ``b`` on a ``grid × grid`` cell grid gets ``(b · grid² + cell(p)) · n_bins``:
    add its bin number and one ``np.bincount`` builds every cell histogram of every box at once
    (per-call overhead, not arithmetic, dominates on 32 × 32 boxes).
    """

    def __init__(self) -> None:
        self._cache: dict[tuple[int, int, int], np.ndarray] = {}

    def __call__(self, n_boxes: int, grid: int, n_bins: int) -> np.ndarray:
        key = (n_boxes, grid, n_bins)
        if key not in self._cache:
            lines = np.arange(CROP) * grid // CROP
            cells = (lines[:, None] * grid + lines[None, :]).ravel()
            boxes = np.arange(n_boxes)[:, None] * grid * grid
            self._cache[key] = ((boxes + cells[None, :]) * n_bins).ravel().astype(np.intp)
        return self._cache[key]


_box_slots = _BoxSlots()


def _root_normalise(hist: np.ndarray) -> np.ndarray:
    """L1-normalise along the last axis, then square root (Hellinger kernel)."""
    total = hist.sum(axis=-1, keepdims=True)
    return np.sqrt(hist / np.maximum(total, 1e-9)).astype(np.float32)


def _angle_bins(angle: np.ndarray, n_bins: int, span: float) -> np.ndarray:
    """``floor(angle / span * n_bins) mod n_bins`` as uint8, with OpenCV's fast saturating convert.

    ``convertScaleAbs`` rounds ``|a·x − ½|``, which is ``floor(a·x)`` for ``a·x ≥ 0``.
    """
    import cv2

    bins = cv2.convertScaleAbs(angle, alpha=n_bins / span, beta=-0.5)
    bins[bins >= n_bins] -= n_bins  # unsigned HOG folds 180–360° onto 0–180°; 360° itself wraps
    np.minimum(bins, n_bins - 1, out=bins)
    return bins


def _gradients(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``d/dx`` and ``d/dy`` of a stack ``(..., H, W)``: exactly ``cv2.Sobel(ksize=1)``'s ``[-1 0 1]``.

    Sobel's default reflect-101 border makes the first and last row / column 0, as here; one
    numpy pass over the whole stack replaces two OpenCV calls per image.
    """
    dx = np.zeros_like(images)
    dy = np.zeros_like(images)
    np.subtract(images[..., :, 2:], images[..., :, :-2], out=dx[..., :, 1:-1])
    np.subtract(images[..., 2:, :], images[..., :-2, :], out=dy[..., 1:-1, :])
    return dx, dy


def _box_histograms(
    dx: np.ndarray, dy: np.ndarray, n_bins: int, span: float, grid: int, slots_per_cell: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Magnitude-weighted orientation histograms of a stack of boxes ``(B, CROP, CROP)``.

    Returns the raw histograms ``(B, grid², slots_per_cell)`` and the per-pixel magnitude and bin
    (so that a caller can re-vote some pixels, as HOF does for still ones, and call again).
    """
    import cv2

    n_boxes = dx.shape[0]
    magnitude, angle = cv2.cartToPolar(dx.reshape(-1, CROP), dy.reshape(-1, CROP), angleInDegrees=True)
    bins = _angle_bins(angle, n_bins, span)
    hist = _vote(bins, magnitude, grid, slots_per_cell, n_boxes)
    return hist, magnitude, bins


def _vote(bins: np.ndarray, weights: np.ndarray, grid: int, slots_per_cell: int, n_boxes: int) -> np.ndarray:
    slots = _box_slots(n_boxes, grid, slots_per_cell) + bins.ravel()
    flat = np.bincount(slots, weights=weights.ravel(), minlength=n_boxes * grid * grid * slots_per_cell)
    return flat.reshape(n_boxes, grid * grid, slots_per_cell)


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
    # (blurring uint8 rounds, so the difference of the uint8 blurs is exact)
    difference = cv2.absdiff(cv2.blur(small, (3, 3)), cv2.blur(small, (k, k))).astype(np.float32)
    contrast = np.asarray(cv2.transform(difference, np.ones((1, 3), np.float32)), np.float32)  # Σ channels
    contrast -= float(np.median(contrast[::2, ::2]))  # the texture floor (a subsample is enough)
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


#: Regions per frame the whole-clip path search considers (the most salient ones).
TRACK_CANDIDATES = 6
#: Weight of the jump penalty ``log(1 + d / reach)`` against the regions' log saliency mass.
TRACK_JUMP_COST = 3.0


def _frame_regions(saliency: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Salient regions of one half-resolution saliency map: centres ``(K, 2)`` in frame pixels, masses, areas.

    The map is thresholded at 20 % of its maximum; each connected region's saliency mass,
    saliency-weighted centroid and area (in frame pixels) are returned for the
    ``TRACK_CANDIDATES`` heaviest regions (none for a blank map).
    """
    import cv2

    peak = float(saliency.max())
    if peak <= 0:
        return np.zeros((0, 2), np.float32), np.zeros(0), np.zeros(0)
    mask = (saliency >= 0.2 * peak).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return np.zeros((0, 2), np.float32), np.zeros(0), np.zeros(0)
    flat = labels.ravel()
    weights = saliency.ravel()
    inside = flat > 0
    flat, weights = flat[inside], weights[inside].astype(np.float64)
    ys, xs = np.divmod(np.flatnonzero(inside).astype(np.float64), saliency.shape[1])
    # mass, x-moment and y-moment of every region in one bincount
    sums = np.bincount(
        np.concatenate([flat, flat + count, flat + 2 * count]),
        weights=np.concatenate([weights, weights * xs, weights * ys]),
        minlength=3 * count,
    ).reshape(3, count)[:, 1:]
    mass = sums[0]
    keep = np.argsort(-mass, kind="stable")[:TRACK_CANDIDATES]
    # half-resolution map: centre of pixel (i, j) is (2i + 0.5, 2j + 0.5) in frame pixels
    centres = 2.0 * sums[1:, keep].T / np.maximum(mass[keep, None], 1e-9) + 0.5
    areas = 4.0 * stats[keep + 1, cv2.CC_STAT_AREA].astype(np.float64)
    return centres.astype(np.float32), mass[keep], areas


def _best_path(
    centres: list[np.ndarray], masses: list[np.ndarray], camera: np.ndarray, reach: float
) -> list[int]:
    """The region to follow in every frame: the path with the most total (log) salience.

    Maximises ``Σ_t log m_t − c Σ_t log(1 + d_t / reach)`` (``c = TRACK_JUMP_COST``) over one region per frame (Viterbi), with
    ``d_t`` the distance from the previous chosen centre moved by the camera. A frame-by-frame
    choice locks onto whatever is most salient at the start and can jump to a one-frame
    distractor; the whole-clip choice follows the object that is salient *throughout*. Frames
    without regions get ``-1``.
    """
    n = len(centres)
    choice = [-1] * n
    score: np.ndarray | None = None
    back: dict[int, np.ndarray] = {}
    previous = -1
    for t in range(n):
        if len(masses[t]) == 0:
            continue
        gain = np.log(np.maximum(masses[t], 1e-12))
        if score is None:
            score = gain
        else:
            moved = centres[previous] + camera[previous:t].sum(axis=0)
            distance = np.hypot(*(centres[t][None, :, :] - moved[:, None, :]).transpose(2, 0, 1))
            total = score[:, None] - TRACK_JUMP_COST * np.log1p(distance / reach)
            back[t] = np.argmax(total, axis=0)
            score = gain + total.max(axis=0)
        back.setdefault(t, np.zeros(len(masses[t]), np.intp))
        previous = t
    if score is None:
        return choice
    frames = [t for t in range(n) if len(masses[t])]
    best = int(np.argmax(score))
    for i in range(len(frames) - 1, -1, -1):
        choice[frames[i]] = best
        best = int(back[frames[i]][best])
    return choice


def track_dominant_object(frames_bgr: list[np.ndarray], flows: list[np.ndarray]) -> ObjectTrack:
    """Follow the clip's most salient object (a one-object tracker that chooses over the whole clip).

    At each sampled frame the saliency map (:func:`_saliency`: contrast + camera-compensated
    motion) gives candidate regions (:func:`_frame_regions`); :func:`_best_path` picks one per
    frame so that the path has the most total salience with few jumps. The region's
    saliency-weighted centroid is the box centre and ``1.6 √area`` (12 px … 0.6 × the frame's
    smaller side) the box side. A frame with no region keeps the box before it (the frame centre,
    a quarter of the frame, at the start).

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
    camera = np.zeros((n, 2), np.float32)
    regions = []
    for t, frame in enumerate(frames_bgr):
        residual_speed = None
        if flows:
            flow = flows[min(t, len(flows) - 1)]
            shift = camera_motion(flow)
            if t < len(flows):
                camera[t] = shift
            u, v = cv2.split(flow)
            residual_speed = cv2.magnitude(u - shift[0], v - shift[1])
        regions.append(_frame_regions(_saliency(frame, residual_speed)))
    choice = _best_path([r[0] for r in regions], [r[1] for r in regions], camera, 0.3 * float(np.hypot(h, w)))
    centres = np.zeros((n, 2), np.float32)
    sides = np.zeros(n, np.float32)
    centre = np.array([w / 2.0, h / 2.0], np.float32)
    side = float(max(12.0, min(h, w) / 4.0))
    for t, j in enumerate(choice):
        if j >= 0:
            centre = regions[t][0][j]
            side = float(np.clip(1.6 * np.sqrt(regions[t][2][j]), 12.0, 0.6 * min(h, w)))
        centres[t], sides[t] = centre, side
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


def _crop(image: np.ndarray, transform: np.ndarray, fill: tuple[float, ...]) -> np.ndarray:
    """The ``CROP × CROP`` box of ``image``; where the box leaves the frame it shows ``fill``.

    A constant (the frame's mean colour, or the camera's motion for a flow field) and not the
    replicated border: replicating smears the edge row into streaks whose texture says where
    the object is, a cue (descriptor version 4) that let a clip's place in the frame leak into
    its appearance.
    """
    import cv2

    return cv2.warpAffine(
        image,
        transform,
        (CROP, CROP),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=fill,
    )


# ------------------------------------------------------------------------- object appearance
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


# ------------------------------------------------------------------------------ the sequences
#: ``ROLL[i, j] = (i − s_j) mod HOG_BINS``: ``b[ROLL]`` holds ``np.roll(b, s_j)`` in column ``j``.
_ROLL = (np.arange(HOG_BINS)[:, None] - np.asarray(ROTATION_SHIFTS)[None, :]) % HOG_BINS


def _box_appearance(
    frames_bgr: list[np.ndarray], transforms: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """HOG ``(T, 144)``, whole-box orientation histograms ``(T, 9)``, silhouettes ``(T, CROP²)``, shapes, gray boxes."""
    import cv2

    n = len(frames_bgr)
    grays = np.empty((n, CROP, CROP), np.float32)
    masks = np.empty((n, CROP * CROP), bool)
    shapes = np.empty((n, SHAPE_DIM), np.float32)
    luma = np.array([0.114, 0.587, 0.299], np.float32)
    for t in range(n):
        crop = _crop(frames_bgr[t], transforms[t], cv2.mean(frames_bgr[t])[:3])
        grays[t] = crop.astype(np.float32) @ luma
        mask = _silhouette(crop)
        masks[t] = mask.ravel()
        shapes[t] = _shape_descriptor(mask)
    dx, dy = _gradients(grays)
    magnitude, angle = cv2.cartToPolar(dx.reshape(-1, CROP), dy.reshape(-1, CROP), angleInDegrees=True)
    hog = _vote(_angle_bins(angle, HOG_BINS, 180.0), magnitude, CROP_HOG_GRID, HOG_BINS, n)
    return _root_normalise(hog).reshape(n, -1), hog.sum(axis=1), masks, shapes, grays


def _box_motion(box_flows: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flow histograms ``(T, 136)`` and local motion ``(T, 4)`` of the boxes' flows ``(T, CROP, CROP, 2)``.

    Histograms: HOF of the box flow, HOF of the box flow minus the object's own mean motion
    (inside its silhouette), MBHx and MBHy (the gradients of a flow and of that flow minus a
    constant are the same, so MBH is computed once). Local motion: mean curl and divergence
    inside the silhouette (÷ 2) and ``tanh(own / 4)``. All four histogram families go through
    one ``cartToPolar`` and one ``np.bincount`` (9 slots per cell; MBH never uses the 9th).
    """
    import cv2

    n = box_flows.shape[0]
    inside = masks.astype(np.float32)
    inside[~masks.any(axis=1)] = 1.0  # no silhouette: the whole box
    inside /= inside.sum(axis=1, keepdims=True)
    u = np.ascontiguousarray(box_flows[..., 0])
    v = np.ascontiguousarray(box_flows[..., 1])
    own_u = np.einsum("tp,tp->t", inside, u.reshape(n, -1))
    own_v = np.einsum("tp,tp->t", inside, v.reshape(n, -1))
    ux, uy = _gradients(u)
    vx, vy = _gradients(v)
    xs = np.stack([u, u - own_u[:, None, None], ux, vx], axis=1)
    ys = np.stack([v, v - own_v[:, None, None], uy, vy], axis=1)
    magnitude, angle = cv2.cartToPolar(xs.reshape(-1, CROP), ys.reshape(-1, CROP), angleInDegrees=True)
    bins = _angle_bins(angle, HOF_BINS, 360.0).reshape(n, 4, CROP, CROP)
    weights = magnitude.reshape(n, 4, CROP, CROP)
    # HOF: moving pixels vote their speed; still pixels vote one each into the no-motion bin
    still = weights[:, :2] < HOF_STILL_THRESHOLD
    bins[:, :2][still] = HOF_BINS
    weights[:, :2][still] = 1.0
    hist = _root_normalise(_vote(bins, weights, CROP_FLOW_GRID, HOF_BINS + 1, 4 * n))
    hist = hist.reshape(n, 4, CROP_FLOW_GRID**2, HOF_BINS + 1)
    blocks = np.concatenate([hist[:, :2].reshape(n, -1), hist[:, 2:, :, :MBH_BINS].reshape(n, -1)], axis=1)
    curl = np.einsum("tp,tp->t", inside, (vx - uy).reshape(n, -1))
    divergence = np.einsum("tp,tp->t", inside, (ux + vy).reshape(n, -1))
    local = np.stack([curl / 2, divergence / 2, np.tanh(own_u / 4.0), np.tanh(own_v / 4.0)], axis=1)
    return blocks, local


# ------------------------------------------------------------------------- object dynamics


def _derivatives(signal: np.ndarray, half: int) -> tuple[np.ndarray, np.ndarray]:
    """First and second time derivatives of ``(T, k)`` signals from a local quadratic fit.

    Savitzky–Golay: over steps ``t − half … t + half`` the least-squares quadratic
    ``c0 + c1 i + c2 i²`` has ``c1 = Σ i y_i / Σ i²`` and ``c2 = Σ q_i y_i / Σ q_i²``
    (``q_i = i² − mean(i²)``); the derivatives are ``c1`` and ``2 c2`` per step. The ends are
    padded by odd reflection (a straight-line continuation), so a steady motion keeps its
    velocity up to the last step.
    """
    n = signal.shape[0]
    if n < 2:
        return np.zeros_like(signal), np.zeros_like(signal)
    i = np.arange(-half, half + 1, dtype=np.float64)
    q = i**2 - np.mean(i**2)
    first, second = i / np.sum(i**2), 2.0 * q / np.sum(q**2)
    padded = np.pad(signal.astype(np.float64), ((half, half), (0, 0)), mode="reflect", reflect_type="odd")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1, axis=0)  # (T, k, 2h+1)
    return windows @ first, windows @ second


def _polar(boxes: np.ndarray) -> np.ndarray:
    """Polar resampling ``(N, POLAR_ANGLES, POLAR_RADII)`` of ``(N, CROP, CROP)`` boxes about their centre.

    Row ``a`` is the angle ``2π a / POLAR_ANGLES``, clockwise on screen (image y points down).
    """
    import cv2

    out = np.empty((len(boxes), POLAR_ANGLES, POLAR_RADII), np.float32)
    centre = (CROP / 2.0, CROP / 2.0)
    # WARP_FILL_OUTLIERS: without it warpPolar leaves the samples that fall outside the box
    # untouched (BORDER_TRANSPARENT) in a fresh, uninitialised output — garbage, sometimes NaN.
    flags = cv2.INTER_LINEAR + cv2.WARP_POLAR_LINEAR + cv2.WARP_FILL_OUTLIERS
    for k, box in enumerate(boxes):
        out[k] = cv2.warpPolar(box, (POLAR_RADII, POLAR_ANGLES), centre, CROP / 2.0, flags)
    return out


def _rotation_rate(before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """In-plane rotation (radians, clockwise positive) from each box to the next, and its confidence.

    The angular cross-correlation of the polar boxes (each radius minus its mean over angles,
    so that only what changes with angle counts), summed over radii, in one FFT:
    ``c(k) = Σ_r Σ_φ a(r, φ) b(r, φ + k)`` normalised by ``‖a‖ ‖b‖``. Its peak, refined by a
    parabola through the three samples around it, is the turn; the peak value (−1 … 1) says how
    well one rotation explains the change (a disc or a blur gives a low, flat correlation).
    """
    a = before[:, :, POLAR_SKIP:].astype(np.float64)
    b = after[:, :, POLAR_SKIP:].astype(np.float64)
    a -= a.mean(axis=1, keepdims=True)
    b -= b.mean(axis=1, keepdims=True)
    spectrum = (np.conj(np.fft.rfft(a, axis=1)) * np.fft.rfft(b, axis=1)).sum(axis=2)
    corr = np.fft.irfft(spectrum, n=POLAR_ANGLES, axis=1)
    corr /= np.maximum(np.sqrt((a**2).sum(axis=(1, 2)) * (b**2).sum(axis=(1, 2))), 1e-9)[:, None]
    rows = np.arange(len(corr))
    peak = np.argmax(corr, axis=1)
    left, centre, right = (corr[rows, (peak + d) % POLAR_ANGLES] for d in (-1, 0, 1))
    curvature = left - 2 * centre + right
    offset = np.where(
        curvature < -1e-9, 0.5 * (left - right) / np.where(curvature < -1e-9, curvature, -1.0), 0.0
    )
    shift = (peak + offset + POLAR_ANGLES / 2) % POLAR_ANGLES - POLAR_ANGLES / 2
    return shift * (2 * np.pi / POLAR_ANGLES), centre


def _object_parts(
    masks: np.ndarray, grays: np.ndarray, track: ObjectTrack, reach: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The object itself inside each box: centre (frame px), area, major / minor axis std, contrast.

    The tracker's box is the salient *region*, often a few times the object and holding
    distractors too, and its centre jumps with them. Inside every box the silhouette's connected
    parts are candidates; :func:`_best_path` (the tracker's own whole-clip choice) picks one per
    box, weighting its area against jumps. Its second moments give the axes, its mean luma minus
    the box border's (/ 255) the contrast (a flipped object shows its shaded back). A box without
    parts keeps the previous choice (the whole box at the start).
    """
    import cv2

    n = len(masks)
    scale = track.sides / CROP
    centres, areas, labelled = [], [], []
    for t in range(n):
        _, labels, stats, centroids = cv2.connectedComponentsWithStats(
            masks[t].reshape(CROP, CROP).astype(np.uint8), connectivity=8
        )
        area = stats[1:, cv2.CC_STAT_AREA].astype(np.float64)
        keep = np.argsort(-area, kind="stable")[:TRACK_CANDIDATES]
        keep = keep[area[keep] >= 3]
        centres.append(track.centres[t] + (centroids[1:][keep] - CROP / 2) * scale[t])
        areas.append(area[keep] * scale[t] ** 2)
        labelled.append((labels, keep + 1))
    choice = _best_path(centres, areas, track.camera, reach)
    ys, xs = np.divmod(np.arange(CROP * CROP, dtype=np.float64), CROP)
    centre_out = np.zeros((n, 2))
    stats_out = np.zeros((n, 4))
    border = np.concatenate([grays[:, 0], grays[:, -1], grays[:, :, 0], grays[:, :, -1]], axis=1).mean(axis=1)
    previous: tuple[np.ndarray, np.ndarray] | None = None
    for t in range(n):
        if choice[t] >= 0:
            labels, ids = labelled[t]
            inside = labels.ravel() == ids[choice[t]]
        elif previous is not None:
            centre_out[t], stats_out[t] = previous
            continue
        else:
            inside = np.ones(CROP * CROP, bool)
        w = float(inside.sum())
        cx, cy = xs[inside].mean(), ys[inside].mean()
        mu20 = float(((xs[inside] - cx) ** 2).mean())
        mu02 = float(((ys[inside] - cy) ** 2).mean())
        mu11 = float(((xs[inside] - cx) * (ys[inside] - cy)).mean())
        spread = np.sqrt(max((mu20 - mu02) ** 2 + 4 * mu11**2, 0.0))
        major = np.sqrt(max((mu20 + mu02 + spread) / 2, 0.25)) * scale[t]
        minor = np.sqrt(max((mu20 + mu02 - spread) / 2, 0.25)) * scale[t]
        contrast = (float(grays[t].ravel()[inside].mean()) - float(border[t])) / 255.0
        centre_out[t] = track.centres[t] + (np.array([cx, cy]) - CROP / 2) * scale[t]
        stats_out[t] = (w * scale[t] ** 2, major, minor, contrast)
        previous = (centre_out[t], stats_out[t])
    return centre_out, stats_out[:, 0], stats_out[:, 1], stats_out[:, 2], stats_out[:, 3]


def _object_dynamics(
    frames_bgr: list[np.ndarray],
    track: ObjectTrack,
    transforms: list[np.ndarray],
    masks: np.ndarray,
    grays: np.ndarray,
) -> np.ndarray:
    """How the tracked object moves, turns, scales and changes shape over time: ``(T, DYNAMICS_DIM)``.

    Every entry is a *change* over time (never a level), so no single frame's pose can show
    through. Signals, per step:

    * the object's path, the silhouette centroid in frame pixels minus the camera's accumulated
      motion, in frame heights ``H``; its velocity and acceleration from local quadratic fits
      over 3 and 7 steps (:func:`_derivatives`), ``tanh(20 v)``, ``tanh(40 a)``; the speeds; the
      turn ``sin`` and reversal ``cos`` of the angle between the step before and the step after
      (zero below :data:`STILL_SPEED`); the speed in box sides per step;
    * the silhouette's log area in frame pixels (grow / shrink), its log aspect ratio and log
      axes (flip narrows an object along its own axis), ``tanh(10 ·)`` of their rates, and the
      rate of its brightness contrast (a flip shows the shaded back);
    * the in-plane rotation to the next box (:func:`_rotation_rate`; the next frame is cropped
      with this box's side about the next centre, so scale and position do not count as turn):
      the turn, its size, its confidence, the turn averaged over 3 steps, and that average
      signed by the direction of horizontal travel (rolling turns with its travel).
    """
    n = len(frames_bgr)
    h = float(frames_bgr[0].shape[0])
    out = np.zeros((n, DYNAMICS_DIM), np.float32)
    if n < 2:
        return out
    h_, w_ = frames_bgr[0].shape[:2]
    centres, area, major, minor, contrast = _object_parts(
        masks, grays, track, PART_REACH * float(np.hypot(h_, w_))
    )
    camera = np.concatenate([np.zeros((1, 2)), np.cumsum(track.camera[:-1], axis=0)])
    path = (centres - camera) / h
    velocity1, acceleration1 = _derivatives(path, DERIVATIVE_HALF_WIDTHS[0])
    velocity3, acceleration3 = _derivatives(path, DERIVATIVE_HALF_WIDTHS[1])
    speed1, speed3 = np.hypot(*velocity1.T), np.hypot(*velocity3.T)
    step = np.diff(path, axis=0)
    before, after = step[np.maximum(np.arange(n) - 1, 0)], step[np.minimum(np.arange(n), n - 2)]
    lengths = np.hypot(*before.T) * np.hypot(*after.T)
    moving = lengths > STILL_SPEED**2
    safe = np.where(moving, lengths, 1.0)
    turn = np.where(moving, (before[:, 0] * after[:, 1] - before[:, 1] * after[:, 0]) / safe, 0.0)
    reversal = np.where(moving, (before * after).sum(axis=1) / safe, 0.0)
    radius = np.sqrt(area / np.pi)
    body_speed = speed3 * h / np.maximum(radius, 1.0)
    shape = np.stack(
        [np.log(area / h**2), np.log(major / minor), np.log(minor / h), np.log(major / h), contrast], axis=1
    )
    shape1, _ = _derivatives(shape, DERIVATIVE_HALF_WIDTHS[0])
    shape3, shape_acceleration3 = _derivatives(shape, DERIVATIVE_HALF_WIDTHS[1])
    # rotation: box t against frame t + 1 cropped with box t's side about centre t + 1
    import cv2

    tight = np.empty((2, n - 1, CROP, CROP), np.float32)
    luma = np.array([0.114, 0.587, 0.299], np.float32)
    for t in range(n - 1):
        side = float(np.clip(2.6 * radius[t], 8.0, h))
        for k, frame in enumerate((frames_bgr[t], frames_bgr[t + 1])):
            transform = _box_transform(centres[t + k], side)
            tight[k, t] = _crop(frame, transform, cv2.mean(frame)[:3]).astype(np.float32) @ luma
    rotation, confidence = _rotation_rate(_polar(tight[0]), _polar(tight[1]))
    rotation = np.append(rotation, rotation[-1])
    confidence = np.append(confidence, confidence[-1])
    smoothed = np.convolve(np.pad(rotation, 1, mode="edge"), np.ones(3) / 3, mode="valid")
    columns = [
        np.tanh(20 * velocity1),
        np.tanh(20 * velocity3),
        np.tanh(40 * acceleration1),
        np.tanh(40 * acceleration3),
        np.tanh(20 * np.stack([speed1, speed3], axis=1)),
        np.stack([turn, reversal, np.tanh(body_speed)], axis=1),
        np.tanh(10 * np.stack([shape1[:, 0], shape3[:, 0], shape_acceleration3[:, 0] * 10], axis=1)),
        np.tanh(10 * np.stack([shape1[:, 1], shape3[:, 1]], axis=1)),
        np.tanh(10 * shape1[:, 2:4]),
        np.tanh(10 * np.stack([shape1[:, 4], shape3[:, 4]], axis=1)),
        np.stack(
            [rotation, np.abs(rotation), confidence, smoothed, smoothed * np.sign(velocity3[:, 0])], axis=1
        ),
    ]
    return np.concatenate(columns, axis=1).astype(np.float32)


def describe_clip(
    frames_bgr: list[np.ndarray], flows: list[np.ndarray], appearance: bool = True
) -> dict[str, np.ndarray]:
    """Appearance and motion sequences of one clip: ``{"appearance": (T, 161), "motion": (T, 190)}``.

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
    flows_used = flows if flows else [np.zeros((h, w, 2), np.float32)]
    track = track_dominant_object(frames_bgr, flows)
    transforms = [_box_transform(track.centres[t], float(track.sides[t])) for t in range(n)]
    hog, orientations, masks, shapes, grays = _box_appearance(frames_bgr, transforms)
    steps = np.minimum(np.arange(n), len(flows_used) - 1)
    nxt = np.minimum(np.arange(n) + 1, n - 1)
    # the box's flow with the camera's motion removed, in box pixels per step (scale-normalised)
    # (outside the frame the flow is the camera's, so the residual there is zero)
    box_flows = np.stack(
        [
            _crop(flows_used[steps[t]], transforms[t], tuple(float(c) for c in track.camera[steps[t]]))
            for t in range(n)
        ]
    )
    box_flows -= track.camera[steps][:, None, None, :]
    box_flows *= (CROP / track.sides)[:, None, None, None]
    flow_blocks, local = _box_motion(box_flows, masks)
    # rotation cue: how far the box's orientation histogram shifted from this frame to the next
    rooted = np.sqrt(orientations / np.maximum(orientations.sum(axis=1, keepdims=True), 1e-9))
    rotation = np.einsum("ti,tij->tj", rooted, rooted[nxt][:, _ROLL])
    rotation -= rotation.max(axis=1, keepdims=True)
    # the box's path with the camera's motion taken out, in units of the frame height
    path = np.zeros((n, 2), np.float32)
    if n > 1:
        steps_moved = np.diff(track.centres, axis=0) - track.camera[:-1]
        path[1:] = np.cumsum(steps_moved, axis=0)
    path /= h
    window = path[np.clip(np.arange(n)[:, None] + np.asarray(TRAJECTORY_OFFSETS), 0, n - 1)] - path[:, None]
    log_side = np.log(track.sides / h)
    kinematics = np.concatenate(
        [
            np.tanh(4.0 * window.reshape(n, -1)),
            # where the box is relative to the clip's mean position (never where it is in the
            # frame: that would tell a verb from its usual place, not from its motion)
            path - path.mean(axis=0),
            np.stack([log_side[nxt] - log_side, log_side - float(np.median(log_side))], axis=1),
            local,
            rotation,
            np.stack([shapes[:, 9] - shapes[nxt, 9], shapes[:, 7] - shapes[nxt, 7]], axis=1),
        ],
        axis=1,
    )
    dynamics = _object_dynamics(frames_bgr, track, transforms, masks, grays)
    motion = np.concatenate([flow_blocks, kinematics, dynamics], axis=1).astype(np.float32)
    if n > 1 and flows:
        motion[-1] = motion[-2]
    out = {"motion": motion}
    if appearance:
        out["appearance"] = np.concatenate([hog, shapes], axis=1).astype(np.float32)
    return out
