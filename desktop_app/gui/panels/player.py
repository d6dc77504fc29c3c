"""The Player panel: plays the current clip, frame-accurately, and names its nearest words.

Frames are decoded by OpenCV on a :class:`FrameDecoder` thread and drawn by Qt (QtMultimedia
needs a sound server and is not frame-accurate, see SPEC "Facts about this machine"). The
nearest words of the clip's embedding come from a task, because the word vectors take about a
second to load the first time. Below them stand the nearest **verbs** and nearest **nouns**
(:func:`~desktop_app.analysis.retrieval.nearest_words_by_pos`; a clip's nearest words are often
about another sense of a word): the run's vocabulary is tagged with WordNet once, in a task of
its own (:mod:`desktop_app.words.pos`); without WordNet the panel says so in their place.

Under the video stands the model's view over time (issue 13): the nearest classes and verbs of
what the run's recurrent encoder has seen up to the playhead
(:func:`~desktop_app.analysis.temporal.clip_track`, computed in a task when the clip opens and
shared with the Map through :class:`~desktop_app.gui.models.TrackModel`); for a model without
recurrence the line says so.

Keys (while the panel has focus): Space plays/pauses, Left/Right step one frame.
"""

from __future__ import annotations

import html
import queue
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shiboken6
from PySide6.QtCore import QRect, QSize, Qt, QThread, Signal
from PySide6.QtGui import QColor, QImage, QKeySequence, QPainter, QPaintEvent, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.analysis.retrieval import WordsByPos
from desktop_app.analysis.temporal import ClipTrack
from desktop_app.errors import ActionLensError
from desktop_app.gui.models import AppModels
from desktop_app.gui.tasks import TaskProgress
from desktop_app.workspace import Workspace

if TYPE_CHECKING:
    from desktop_app.words.pos import WordPos

PANEL_ID = "player"
SPEEDS = (0.25, 0.5, 1.0, 1.5, 2.0, 4.0)
#: Length of each nearest-word list (all words, verbs, nouns).
NEAREST_WORDS = 5
#: Nearest classes and verbs named at the playhead.
TRACK_NEIGHBOURS = 3


class FrameDecoder(QThread):
    """Decodes one video at a time with OpenCV and emits its frames as QImages.

    Commands are queued from the GUI thread (:meth:`open`, :meth:`play`, :meth:`seek` …) and run
    on this thread; every emitted signal carries the token given to :meth:`open`, so frames of a
    clip the user has left are recognised and dropped.

    Signals
    -------
    opened(int, int, float)
        Token, frame count (0 if unknown), frames per second.
    failed(int, str)
        Token and a one-line reason the video cannot be played.
    frameReady(int, object, int)
        Token, the frame as an RGB ``QImage``, and its index.
    playingChanged(int, bool)
        Token and whether it now plays.
    """

    opened = Signal(int, int, float)
    failed = Signal(int, str)
    frameReady = Signal(int, object, int)
    playingChanged = Signal(int, bool)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._commands: queue.Queue[tuple[Any, ...]] = queue.Queue()

    # ------------------------------------------------------------ commands (any thread)
    def open(self, path: Path, token: int, autoplay: bool = True) -> None:
        """Open ``path``, show its first frame and, with ``autoplay``, start playing."""
        self._commands.put(("open", Path(path), token, autoplay))

    def play(self) -> None:
        self._commands.put(("play",))

    def pause(self) -> None:
        self._commands.put(("pause",))

    def seek(self, index: int) -> None:
        """Show frame ``index`` (playback continues from there if playing)."""
        self._commands.put(("seek", int(index)))

    def step(self, delta: int) -> None:
        """Pause and move ``delta`` frames."""
        self._commands.put(("step", int(delta)))

    def set_speed(self, speed: float) -> None:
        self._commands.put(("speed", float(speed)))

    def set_loop(self, loop: bool) -> None:
        self._commands.put(("loop", bool(loop)))

    def close_video(self) -> None:
        """Release the current video."""
        self._commands.put(("close",))

    def stop(self, timeout_ms: int = 2000) -> None:
        """End the thread and wait for it."""
        self._commands.put(("quit",))
        self.wait(timeout_ms)

    # ------------------------------------------------------------ the decoding loop
    def run(self) -> None:
        import cv2

        capture: Any = None
        token = 0
        index = -1  # index of the last frame emitted
        count = 0
        fps = 25.0
        speed = 1.0
        loop = True
        playing = False
        next_due = 0.0

        def set_playing(value: bool) -> None:
            nonlocal playing, next_due
            if value != playing:
                playing = value
                next_due = time.monotonic()
                self.playingChanged.emit(token, value)

        def read_at(target: int) -> bool:
            nonlocal index
            if capture is None:
                return False
            if count:
                target = min(max(target, 0), count - 1)
            else:
                target = max(target, 0)
            if target != index + 1:
                capture.set(cv2.CAP_PROP_POS_FRAMES, target)
            ok, frame = capture.read()
            if not ok or frame is None:
                return False
            index = target
            rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            h, w = rgb.shape[:2]
            image = QImage(np.ascontiguousarray(rgb).data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
            self.frameReady.emit(token, image, index)
            return True

        while True:
            timeout = max(0.0, next_due - time.monotonic()) if playing else 0.25
            try:
                command = self._commands.get(timeout=timeout)
            except queue.Empty:
                command = None
            if command is not None:
                name = command[0]
                if name == "quit":
                    break
                if name == "open":
                    if capture is not None:
                        capture.release()
                        capture = None
                    set_playing(False)
                    path, token, autoplay = command[1], command[2], command[3]
                    index, count = -1, 0
                    if not path.is_file():
                        self.failed.emit(token, f"{path} does not exist; was the dataset moved?")
                        continue
                    capture = cv2.VideoCapture(str(path))
                    if not capture.isOpened():
                        capture.release()
                        capture = None
                        self.failed.emit(token, f"{path.name} cannot be opened as a video")
                        continue
                    count = max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0))
                    rate = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
                    fps = rate if 1.0 <= rate <= 240.0 else 25.0
                    if not read_at(0):
                        capture.release()
                        capture = None
                        self.failed.emit(token, f"{path.name} has no decodable frames")
                        continue
                    self.opened.emit(token, count, fps)
                    if autoplay:
                        set_playing(True)
                elif name == "close":
                    if capture is not None:
                        capture.release()
                        capture = None
                    set_playing(False)
                elif name == "play" and capture is not None:
                    if count and index >= count - 1:
                        read_at(0)
                    set_playing(True)
                elif name == "pause":
                    set_playing(False)
                elif name == "seek":
                    read_at(command[1])
                    next_due = time.monotonic() + 1.0 / (fps * speed)
                elif name == "step":
                    set_playing(False)
                    read_at(index + command[1])
                elif name == "speed":
                    speed = min(max(command[1], 0.05), 16.0)
                elif name == "loop":
                    loop = command[1]
                continue
            if not playing or capture is None:
                continue
            now = time.monotonic()
            if now < next_due:
                continue
            if not read_at(index + 1):
                if loop and index > 0:
                    read_at(0)
                else:
                    set_playing(False)
                    continue
            next_due += 1.0 / (fps * speed)
            if next_due < now - 0.25:  # fell behind (slow decode): do not rush to catch up
                next_due = now
        if capture is not None:
            capture.release()


class VideoView(QWidget):
    """Draws the current frame scaled to fit (aspect kept), or a message in its place."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image: QImage | None = None
        self._message = ""
        self.setMinimumSize(160, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def sizeHint(self) -> QSize:
        return QSize(480, 360)

    def set_image(self, image: QImage | None) -> None:
        """Show a frame."""
        self._image, self._message = image, ""
        self.update()

    def set_message(self, message: str) -> None:
        """Show a message instead of a frame."""
        self._image, self._message = None, message
        self.update()

    @property
    def message(self) -> str:
        """The message shown ("" while a frame is shown)."""
        return self._message

    def has_frame(self) -> bool:
        """True while a frame is shown."""
        return self._image is not None

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(16, 16, 16))
        if self._image is not None and not self._image.isNull():
            size = self._image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(self.rect().center())
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(target, self._image)
        elif self._message:
            painter.setPen(QColor(200, 200, 200))
            margin = self.rect().adjusted(16, 16, -16, -16)
            painter.drawText(
                margin, int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), self._message
            )
        painter.end()


def nearest_words_of_clip(
    space: Any, clip_id: int, k: int, progress: TaskProgress
) -> list[tuple[str, float]] | None:
    """The ``k`` words nearest to a clip's embedding (``None`` if the clip has no embedding).

    Runs in a task: the first access to ``space.word_vectors`` loads them (about a second).
    """
    if not 0 <= clip_id < space.clip_embeddings.shape[0]:
        return None
    vector = np.asarray(space.clip_embeddings[clip_id], dtype=np.float32)
    if not np.all(np.isfinite(vector)):
        return None
    progress.set_progress(0.1, "loading word vectors")
    word_vectors = space.word_vectors
    progress.check_cancelled()
    words: list[tuple[str, float]] = word_vectors.most_similar(vector, k=k)
    return words


def clip_track_or_reason(space: Any, clip_id: int, word_pos: Any, progress: TaskProgress) -> ClipTrack | str:
    """The clip's :class:`~desktop_app.analysis.temporal.ClipTrack` (runs in a task), or the
    sentence saying why it has none (a model without recurrence, missing features)."""
    from desktop_app.analysis.temporal import clip_track

    try:
        return clip_track(space, clip_id, word_pos, TRACK_NEIGHBOURS, progress)
    except ActionLensError as exc:
        return str(exc)


def prepare_word_pos(space: Any, progress: TaskProgress) -> WordPos | str:
    """The run's vocabulary tagged as verbs and nouns (:mod:`desktop_app.words.pos`), or why not.

    Read from the user cache, or computed from WordNet once per vocabulary (seconds).
    """
    from desktop_app.words.pos import word_pos_or_reason

    progress.set_progress(0.0, "Loading word vectors")
    return word_pos_or_reason(space.word_vectors, progress)


def nearest_pos_words_of_clip(
    space: Any, clip_id: int, k: int, word_pos: WordPos, progress: TaskProgress
) -> WordsByPos | None:
    """The ``k`` verbs and ``k`` nouns nearest a clip's embedding (``None``: no embedding)."""
    from desktop_app.analysis.retrieval import nearest_words_by_pos

    if not 0 <= clip_id < space.clip_embeddings.shape[0]:
        return None
    vector = np.asarray(space.clip_embeddings[clip_id], dtype=np.float32)
    if not np.all(np.isfinite(vector)):
        return None
    progress.check_cancelled()
    return nearest_words_by_pos(space.word_vectors, vector, k, word_pos=word_pos)


class PlayerPanel(QWidget):
    """Plays :attr:`AppModels.current_clip` with transport controls and the clip's nearest words."""

    def __init__(self, models: AppModels, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.models = models
        self._token = 0
        self._frame_count = 0
        self._playing = False
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setToolTip("The clip being played and its class")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.words = QLabel()
        self.words.setWordWrap(True)
        self.words.setToolTip(
            "The words whose vectors are nearest (cosine) to this clip's embedding in the active run"
        )
        self.verbs = QLabel()
        self.verbs.setWordWrap(True)
        self.verbs.setToolTip(
            "The nearest verbs: a word is a verb when at least a third of its WordNet senses, "
            "weighted by how often each is used, are verb senses"
        )
        self.nouns = QLabel()
        self.nouns.setWordWrap(True)
        self.nouns.setToolTip(
            "The nearest nouns: a word is a noun when at least a third of its WordNet senses, "
            "weighted by how often each is used, are noun senses"
        )
        # A story video's paragraph (seed 004), its playing sentence highlighted.
        self.paragraph = QLabel()
        self.paragraph.setWordWrap(True)
        self.paragraph.setTextFormat(Qt.TextFormat.RichText)
        self.paragraph.setToolTip(
            "The video's paragraph; the sentence of the clip being played is highlighted"
        )
        self.paragraph.setVisible(False)
        self._captions: list[Any] = []
        self._fps = 0.0
        self._active_sentences: tuple[int, ...] | None = None
        # The vocabulary's verb/noun tagging for one space; a string says why there is none.
        self._word_pos: WordPos | str | None = None
        self._pos_space: Any = None
        self._pos_token = 0
        self._track_row = -1  # the track row the timeline line shows
        self._frame_index = -1  # the frame on screen
        # The model's view at the playhead: nearest classes and verbs of the prefix seen so far.
        self.timeline = QLabel()
        self.timeline.setWordWrap(True)
        self.timeline.setTextFormat(Qt.TextFormat.RichText)
        self.timeline.setToolTip(
            "What the run's encoder has seen up to the playhead: the nearest classes and verbs of "
            "the embedding of the clip's first steps (the Map draws the same prefixes as a track)"
        )
        self.video = VideoView()
        self.video.setToolTip("Space: play/pause · Left/Right: previous/next frame")

        style = self.style()
        self.play_button = self._button(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay), "Play / pause (Space)", self.toggle_play
        )
        self.back_button = self._button(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaSeekBackward),
            "Previous frame (Left)",
            lambda: self.step(-1),
        )
        self.forward_button = self._button(
            style.standardIcon(QStyle.StandardPixmap.SP_MediaSeekForward),
            "Next frame (Right)",
            lambda: self.step(1),
        )
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Drag to seek")
        self.slider.setRange(0, 0)
        self.frame_label = QLabel("–")
        self.frame_label.setToolTip("Current frame / number of frames")
        self.frame_label.setMinimumWidth(self.frame_label.fontMetrics().horizontalAdvance("0000 / 0000"))
        self.loop_button = QToolButton()
        self.loop_button.setText("Loop")
        self.loop_button.setCheckable(True)
        self.loop_button.setChecked(True)
        self.loop_button.setToolTip("Start again at the end of the clip")
        self.speed_combo = QComboBox()
        for speed in SPEEDS:
            self.speed_combo.addItem(f"{speed:g}×", speed)
        self.speed_combo.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_combo.setToolTip("Playback speed")

        controls = QHBoxLayout()
        controls.setSpacing(4)
        for w in (self.play_button, self.back_button, self.forward_button):
            controls.addWidget(w)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.frame_label)
        controls.addWidget(self.loop_button)
        controls.addWidget(self.speed_combo)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.video, 1)
        layout.addLayout(controls)
        layout.addWidget(self.timeline)
        layout.addWidget(self.paragraph)
        layout.addWidget(self.words)
        layout.addWidget(self.verbs)
        layout.addWidget(self.nouns)

        for key, slot in (
            (Qt.Key.Key_Space, self.toggle_play),
            (Qt.Key.Key_Left, lambda: self.step(-1)),
            (Qt.Key.Key_Right, lambda: self.step(1)),
        ):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

        self.decoder = FrameDecoder(self)
        self.decoder.opened.connect(self._on_opened)
        self.decoder.failed.connect(self._on_failed)
        self.decoder.frameReady.connect(self._on_frame)
        self.decoder.playingChanged.connect(self._on_playing)
        self.decoder.start()
        self.slider.sliderMoved.connect(self.decoder.seek)
        self.slider.sliderPressed.connect(self.decoder.pause)
        self.loop_button.toggled.connect(self.decoder.set_loop)
        self.speed_combo.currentIndexChanged.connect(
            lambda: self.decoder.set_speed(float(self.speed_combo.currentData()))
        )

        models.current_clip.changed.connect(self._on_current_clip)
        models.workspace.workspaceChanged.connect(self._on_workspace)
        models.workspace.runChanged.connect(lambda _run: self._update_words())
        self._on_current_clip(models.current_clip.clip_id, "")

    # ------------------------------------------------------------ transport
    def toggle_play(self) -> None:
        """Play or pause."""
        if self._playing:
            self.decoder.pause()
        else:
            self.decoder.play()

    def step(self, delta: int) -> None:
        """Pause and move ``delta`` frames."""
        self.decoder.step(delta)

    @property
    def playing(self) -> bool:
        """True while the clip plays."""
        return self._playing

    def shutdown(self) -> None:
        """Stop the decoding thread (the window is closing)."""
        self.decoder.stop()

    # ------------------------------------------------------------ model changes
    def _on_workspace(self, workspace: Workspace | None) -> None:
        self._on_current_clip(None, "")

    def _on_current_clip(self, clip_id: int | None, source: str) -> None:
        self._token += 1
        self._frame_count = 0
        self._frame_index = -1
        self._on_playing(self._token, False)
        self._set_controls_enabled(False)
        self.slider.setRange(0, 0)
        self.frame_label.setText("–")
        wm = self.models.workspace
        self._fps = 0.0
        # One catalog row for the clip being played, by id (never every clip's row).
        clip = None
        if wm.workspace is not None and clip_id is not None and 0 <= clip_id < wm.num_clips:
            try:
                clip = wm.workspace.catalog.clip(clip_id)
            except KeyError:
                clip = None
        self._captions = wm.workspace.catalog.captions(clip.id) if wm.workspace and clip else []
        self._show_paragraph(())
        if clip is None:
            self.decoder.close_video()
            self.title.setText("<b>No clip</b>")
            self.video.set_message(
                "Double-click a clip in the Library to play it."
                if wm.workspace
                else "Open a workspace to play its clips."
            )
            self._set_pos_text("", "")
            self.words.setText("")
            self._clear_track("")
            return
        cls = wm.classes().get(clip.class_id) if clip.class_id is not None else None
        class_text = f"<b>{cls.phrase}</b> ({cls.name})" if cls else "<b>unlabelled</b>"
        self.title.setText(f"{class_text} · {clip.name}")
        self.video.set_message("Loading…")
        try:
            path = wm.workspace.clip_path(clip.path) if wm.workspace else Path(clip.path)
        except ActionLensError as exc:
            self.video.set_message(f"Cannot play {clip.name}: {exc}")
        else:
            self.decoder.open(path, self._token)
        self._update_words()

    def _update_words(self) -> None:
        clip_id = self.models.current_clip.clip_id
        if clip_id is None:
            self.words.setText("")
            self._set_pos_text("", "")
            self._clear_track("")
            return
        try:
            space = self.models.workspace.space()
        except ActionLensError as exc:
            self.words.setText(f"Nearest words unavailable: {exc}")
            self._set_pos_text("", "")
            self._clear_track("")
            return
        if space is None:
            self._clear_track("")
            self.words.setText(
                "<i>No embeddings in this workspace yet: nearest words appear after "
                "<code>actionlens train</code> and <code>actionlens embed</code>.</i>"
            )
            self._set_pos_text("", "")
            return
        if "paragraphs" in (space.meta or {}):  # seed 004: its space holds clips and sentences, no words
            self.words.setText("<i>An hse / fse run's space holds no words; type a sentence in Query.</i>")
            self._set_pos_text("", None)
            self._update_track(space, clip_id)
            return
        self._update_pos_words(space, clip_id)
        self._update_track(space, clip_id)
        self.words.setText("<i>Finding the nearest words…</i>")
        task = self.models.tasks.start(
            f"{PANEL_ID}.words",
            "Nearest words",
            nearest_words_of_clip,
            space,
            clip_id,
            NEAREST_WORDS,
            quiet=True,
        )
        token = self._token
        task.finished.connect(lambda words: self._show_words(token, words))
        task.failed.connect(lambda exc: self._show_words_error(token, exc))

    def _show_words(self, token: int, words: list[tuple[str, float]] | None) -> None:
        if token != self._token:
            return
        if words is None:
            self.words.setText("<i>This clip has no embedding in the active run.</i>")
            return
        listed = " · ".join(f"<b>{w}</b> {score:.2f}" for w, score in words)
        self.words.setText(f"Nearest words: {listed}")

    def _show_words_error(self, token: int, exc: BaseException) -> None:
        if token == self._token:
            self.words.setText(f"Nearest words unavailable: {exc}")

    # ------------------------------------------------------------ verbs and nouns
    def _update_pos_words(self, space: Any, clip_id: int) -> None:
        if self._pos_space is not space:
            self._prepare_word_pos(space)
        word_pos = self._word_pos
        if isinstance(word_pos, str):
            self._set_pos_text(f"Nearest verbs and nouns unavailable: {html.escape(word_pos)}", None)
            return
        if word_pos is None:  # being prepared: _on_word_pos comes back here
            self._set_pos_text("<i>Tagging verbs and nouns with WordNet…</i>", None)
            return
        self._set_pos_text("<i>Finding the nearest verbs and nouns…</i>", None)
        task = self.models.tasks.start(
            f"{PANEL_ID}.pos",
            "Nearest verbs and nouns",
            nearest_pos_words_of_clip,
            space,
            clip_id,
            NEAREST_WORDS,
            word_pos,
            quiet=True,
        )
        token = self._token
        task.finished.connect(lambda found: self._show_pos_words(token, found))
        task.failed.connect(
            lambda exc: self._show_pos_words(
                token, WordsByPos(unavailable=f"the nearest verbs and nouns could not be found: {exc}")
            )
        )

    def _prepare_word_pos(self, space: Any) -> None:
        self._pos_space, self._word_pos = space, None
        self._pos_token += 1
        token = self._pos_token
        task = self.models.tasks.start(
            f"{PANEL_ID}.pos-weights", "Tagging verbs and nouns with WordNet", prepare_word_pos, space
        )
        task.finished.connect(lambda found: self._on_word_pos(token, found))
        task.failed.connect(
            lambda exc: self._on_word_pos(token, f"verbs and nouns could not be tagged: {exc}")
        )
        task.cancelled.connect(lambda: self._on_word_pos(token, None))

    def _on_word_pos(self, token: int, found: WordPos | str | None) -> None:
        if token != self._pos_token or not shiboken6.isValid(self.verbs):
            return  # replaced by a newer start, or the panel is gone
        if found is None:  # cancelled: the next clip prepares again
            self._pos_space = None
            self._set_pos_text("<i>Tagging verbs and nouns was cancelled.</i>", None)
            return
        self._word_pos = found
        clip_id = self.models.current_clip.clip_id
        if clip_id is not None and self._pos_space is not None:
            self._update_pos_words(self._pos_space, clip_id)
            self._update_track(self._pos_space, clip_id)  # now with the verbs of each prefix

    def _show_pos_words(self, token: int, found: WordsByPos | None) -> None:
        if token != self._token:
            return
        if found is None:
            self._set_pos_text("", "")
        elif found.unavailable is not None:
            self._set_pos_text(f"Nearest verbs and nouns unavailable: {html.escape(found.unavailable)}", None)
        else:
            self._set_pos_text(
                "Nearest verbs: "
                + " · ".join(f"<b>{html.escape(h.word)}</b> {h.score:.2f}" for h in found.verbs),
                "Nearest nouns: "
                + " · ".join(f"<b>{html.escape(h.word)}</b> {h.score:.2f}" for h in found.nouns),
            )

    def _set_pos_text(self, verbs: str, nouns: str | None) -> None:
        """Show the verb and noun lines; ``nouns=None`` hides the second (one message for both)."""
        self.verbs.setText(verbs)
        self.nouns.setText(nouns or "")
        self.nouns.setVisible(nouns is not None)

    # ------------------------------------------------------------ the model's view over time
    def _clear_track(self, text: str) -> None:
        self.models.tasks.cancel(f"{PANEL_ID}.track")
        self.models.track.set_track(None)
        self._track_row = -1
        self.timeline.setText(text)

    def _update_track(self, space: Any, clip_id: int) -> None:
        """Compute the clip's prefix track in a task; the Map hears of it through TrackModel.

        The track of this clip already shown stays until the new one (with its verbs) arrives."""
        shown = self.models.track.track
        if not (isinstance(shown, ClipTrack) and shown.clip_id == clip_id and shown.run_id == space.run_id):
            self.models.track.set_track(None)
            self._track_row = -1
            self.timeline.setText("<i>Embedding every prefix of the clip…</i>")
        word_pos = (
            self._word_pos if self._pos_space is space and not isinstance(self._word_pos, str) else None
        )
        task = self.models.tasks.start(
            f"{PANEL_ID}.track",
            "The model's view over time",
            clip_track_or_reason,
            space,
            clip_id,
            word_pos,
            quiet=True,
        )
        token = self._token
        task.finished.connect(lambda found: self._on_track(token, found))
        task.failed.connect(lambda exc: self._on_track(token, f"the track could not be computed: {exc}"))

    def _on_track(self, token: int, found: ClipTrack | str) -> None:
        if token != self._token or not shiboken6.isValid(self.timeline):
            return
        if isinstance(found, str):
            self.models.track.set_track(found)
            self.timeline.setText(f"No view over time: {html.escape(found)}")
            return
        self.models.track.set_track(found)
        self._track_row = -1
        self._follow_playhead()

    def _follow_playhead(self) -> None:
        """Move the track's row to the frame on screen and name its nearest classes and verbs."""
        track = self.models.track.track
        if not isinstance(track, ClipTrack) or track.clip_id != self.models.current_clip.clip_id:
            return
        index = max(self._frame_index, 0)
        # The frame on screen has been seen to its end: (index + 1) frames of video.
        seconds = (index + 1) / self._fps if self._fps > 0 else 0.0
        row = track.step_at(seconds, (index + 1) / self._frame_count if self._frame_count else 0.0)
        self.models.track.set_step(row)
        if row != self._track_row:
            self._show_track_row(row)

    def _show_track_row(self, row: int) -> None:
        track = self.models.track.track
        if not isinstance(track, ClipTrack) or track.clip_id != self.models.current_clip.clip_id:
            return
        self._track_row = row
        classes = self.models.workspace.classes()
        seen = int(track.steps[row])
        when = f"{track.seconds[row]:.1f} s, " if track.seconds is not None else ""
        names = " · ".join(
            f"<b>{html.escape(classes[int(c)].phrase or classes[int(c)].name) if int(c) in classes else c}</b> "
            f"{score:.2f}"
            for c, score in zip(track.class_ids[row], track.class_scores[row], strict=True)
        )
        if track.verbs is not None:
            verbs = "nearest verbs " + " · ".join(
                f"<b>{html.escape(w)}</b> {score:.2f}" for w, score in track.verbs[row]
            )
        else:
            verbs = f"<i>nearest verbs unavailable: {html.escape(track.verbs_unavailable or '')}</i>"
        self.timeline.setText(
            f"Seen so far ({when}{seen} of {len(track)} steps): nearest classes {names}; {verbs}"
        )

    # ------------------------------------------------------------ decoder signals
    def _on_opened(self, token: int, count: int, fps: float) -> None:
        if token != self._token:
            return
        self._frame_count = count
        self._fps = float(fps)
        self.slider.setRange(0, max(0, count - 1))
        self._set_controls_enabled(True)

    def _on_failed(self, token: int, message: str) -> None:
        if token != self._token:
            return
        self._set_controls_enabled(False)
        self.video.set_message(f"Cannot play this clip: {message}")

    def _on_frame(self, token: int, image: QImage, index: int) -> None:
        if token != self._token:
            return
        self.video.set_image(image)
        if not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            self.slider.setValue(index)
            self.slider.blockSignals(False)
        total = self._frame_count or "?"
        self.frame_label.setText(f"{index + 1} / {total}")
        self._frame_index = index
        self._follow_playhead()
        if self._captions and self._fps > 0:
            seconds = index / self._fps
            active = tuple(i for i, c in enumerate(self._captions) if c.start <= seconds <= c.end)
            if active != self._active_sentences:
                self._show_paragraph(active)

    def _show_paragraph(self, active: tuple[int, ...]) -> None:
        """Show the clip's paragraph (hidden without one), sentences ``active`` highlighted."""
        self._active_sentences = active
        self.paragraph.setVisible(bool(self._captions))
        parts = []
        for i, caption in enumerate(self._captions):
            text = html.escape(caption.sentence)
            stamp = f"{caption.start:.1f}–{caption.end:.1f} s"
            if i in active:
                parts.append(f"<b style='color:#1f6fb2' title='{stamp}'>{text}</b>")
            else:
                parts.append(f"<span style='color:#666' title='{stamp}'>{text}</span>")
        self.paragraph.setText(" ".join(parts))

    def _on_playing(self, token: int, playing: bool) -> None:
        if token != self._token:
            return
        self._playing = playing
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))

    # ------------------------------------------------------------ helpers
    def _button(self, icon: Any, tooltip: str, slot: Any) -> QToolButton:
        button = QToolButton()
        button.setIcon(icon)
        button.setToolTip(tooltip)
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        return button

    def _set_controls_enabled(self, enabled: bool) -> None:
        for w in (self.play_button, self.back_button, self.forward_button, self.slider):
            w.setEnabled(enabled)


if __name__ == "__main__":  # preview: python -m desktop_app.gui.panels.player WORKSPACE
    from desktop_app.gui.panels import preview_panel

    preview_panel(PlayerPanel)
