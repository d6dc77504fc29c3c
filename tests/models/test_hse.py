"""Seed 004's losses against hand-computed values, padding that changes nothing, and the
retrieval metrics against a hand-made similarity matrix."""

import math

import numpy as np
import pytest
import torch

from desktop_app.models import ModelShape, get_model_spec
from desktop_app.models.hse import (
    HierarchyBatch,
    SequenceEncoder,
    chance_metrics,
    clustering_hinge,
    cosine_matrix,
    matching_hinge,
    reconstruction_loss,
    retrieval_metrics,
    weak_match_matrix,
)

R2 = 1 / math.sqrt(2)


@pytest.fixture(autouse=True)
def _no_autograd():
    with torch.no_grad():
        yield


def test_matching_hinge_both_directions():
    # scores[k, k'] = MATCH(v_k, p_k'); diagonal = matched pairs (0.9, 0.3)
    scores = torch.tensor([[0.9, 0.5], [0.8, 0.3]])
    # paragraph 0 vs video 1: 0.2 + 0.8 - 0.9 = 0.1; paragraph 1 vs video 0: 0.2 + 0.5 - 0.3 = 0.4
    # video 0 vs paragraph 1: 0.2 + 0.5 - 0.9 < 0; video 1 vs paragraph 0: 0.2 + 0.8 - 0.3 = 0.7
    assert float(matching_hinge(scores, 0.2)) == pytest.approx(1.2)
    # only the video → paragraph side: a video matching every paragraph equally
    one_side = torch.tensor([[0.5, 0.5], [0.0, 0.5]])
    # video 0 vs p1: 0.2 + 0.5 - 0.5 = 0.2; p1 vs video 0: 0.2 + 0.5 - 0.5 = 0.2; p0 vs v1: 0.2 + 0 - 0.5 < 0
    assert float(matching_hinge(one_side, 0.2)) == pytest.approx(0.4)
    assert float(matching_hinge(one_side.T, 0.2)) == pytest.approx(0.4)


def test_matching_hinge_is_zero_when_matched_pairs_win_by_the_margin():
    scores = torch.tensor([[1.0, 0.7], [0.75, 1.0]])
    assert float(matching_hinge(scores, 0.2)) == 0.0
    # margin 0.3: 0.3 + 0.75 - 1.0 = 0.05 twice (v1 against p0, p0 against v1), 0.3 + 0.7 - 1.0 = 0
    assert float(matching_hinge(scores, 0.3)) == pytest.approx(0.1)


def test_clustering_hinge():
    e = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    # cosines: (0,1) = (1,2) = 1/√2, (0,2) = 0; [0.5 + cos - 1]_+ over the 6 ordered pairs
    expected = 4 * (0.5 + R2 - 1.0)
    assert float(clustering_hinge(e, 0.5)) == pytest.approx(expected, abs=1e-6)
    assert float(clustering_hinge(e, 0.2)) == 0.0


def test_weak_correspondence_mean_match_and_loss():
    clips = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])  # video 0: c0 c1; video 1: c2
    sentences = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # paragraph 0: s0; paragraph 1: s1 s2
    matrix = weak_match_matrix(clips, torch.tensor([0, 0, 1]), sentences, torch.tensor([0, 1, 1]), 2)
    expected = torch.tensor([[0.5, (0 + R2 + 1 + R2) / 4], [1.0, R2 / 2]])
    assert torch.allclose(matrix, expected, atol=1e-6)
    # eq. 14 with β' = 0.2: 0.7 + (0.2 + 0.60355 - 0.35355) + (0.2 + 0.60355 - 0.5) + (0.2 + 1 - 0.35355)
    assert float(matching_hinge(matrix, 0.2)) == pytest.approx(2.3, abs=1e-5)


def test_reconstruction_loss_ignores_padded_frames():
    generated_clips, clips = torch.tensor([[1.0, 2.0]]), torch.zeros(1, 2)
    frames = torch.tensor([[[1.0], [2.0], [0.0]]])
    generated = torch.tensor([[[0.0], [0.0], [9.0]]])  # the third step is padding
    # ‖ĉ − c‖² = 5, (1/n) Σ ‖x̂ − x‖² = (1 + 4) / 2
    assert float(reconstruction_loss(generated_clips, clips, generated, frames, torch.tensor([2]))) == 7.5


def _batch(seed: int = 0) -> HierarchyBatch:
    g = torch.Generator().manual_seed(seed)
    return HierarchyBatch(
        torch.randn(5, 4, 6, generator=g),
        torch.tensor([4, 2, 3, 1, 4]),
        torch.tensor([2, 3]),
        torch.randn(5, 3, 5, generator=g),
        torch.tensor([3, 2, 1, 3, 2]),
        torch.tensor([2, 3]),
    )


def _model(name: str, **overrides):
    torch.manual_seed(0)
    spec = get_model_spec(name)
    config = spec.config("small", embed_size=8, word_vector_dim=5, **overrides)
    return spec.build(config, ModelShape({"appearance": 6}, 8, 0))


def test_reconstruction_term_is_scaled_by_tau():
    model = _model("hse", tau=5e-4)
    batch = _batch()
    first = float(model.loss_terms(batch)["reconstruct"])
    model.config.tau = 1e-3
    assert float(model.loss_terms(batch)["reconstruct"]) == pytest.approx(2 * first, rel=1e-5)
    assert "reconstruct" not in _model("hse", tau=0.0).loss_terms(batch)
    assert len(list(_model("hse", tau=0.0).decoders.parameters())) == 0


def test_hse_terms_are_the_equations_on_its_embeddings():
    model = _model("hse", tau=0.0)
    batch = _batch()
    e = model.encode(batch)
    terms = model.loss_terms(batch)
    m = model.config.margin
    assert float(terms["match_high"]) == pytest.approx(
        float(matching_hinge(cosine_matrix(e["videos"], e["paragraphs"]), m))
    )
    assert float(terms["match_low"]) == pytest.approx(
        float(matching_hinge(cosine_matrix(e["clips"], e["sentences"]), m))
    )
    assert float(terms["cluster_low"]) == pytest.approx(
        float(clustering_hinge(e["clips"], m) + clustering_hinge(e["sentences"], m))
    )
    weak = _model("hse", tau=0.0, low_level="weak").loss_terms(batch)
    assert float(weak["match_low"]) != pytest.approx(float(terms["match_low"]))
    assert set(_model("fse").loss_terms(batch)) == {"match_high"}


def test_padding_does_not_change_an_encoding():
    torch.manual_seed(0)
    encoder = SequenceEncoder(3, 4)
    seq = torch.randn(1, 3, 3)
    padded = torch.cat([seq, 50 * torch.randn(1, 4, 3)], dim=1)
    assert torch.allclose(encoder(seq, torch.tensor([3])), encoder(padded, torch.tensor([3])), atol=1e-6)

    model = _model("hse", tau=0.0)
    batch = _batch()
    alone = HierarchyBatch(
        batch.clip_frames[:2, :4],
        batch.clip_lengths[:2],
        torch.tensor([2]),
        batch.sentence_words[:2, :3],
        batch.sentence_lengths[:2],
        torch.tensor([2]),
    )
    together, single = model.encode(batch), model.encode(alone)
    # video 0 has 2 clips, video 1 has 3: video 0's encoding ignores the padded clip slot
    assert torch.allclose(together["videos"][0], single["videos"][0], atol=1e-6)
    assert torch.allclose(together["paragraphs"][0], single["paragraphs"][0], atol=1e-6)
    flat = _model("fse")
    assert torch.allclose(flat.encode(batch)["videos"][0], flat.encode(alone)["videos"][0], atol=1e-6)


def test_forward_embeds_clips_in_the_sentence_space():
    model = _model("hse")
    features = {"appearance": torch.randn(3, 7, 6)}
    embedding, logits = model(features, {"appearance": torch.tensor([7, 3, 5])})
    assert embedding.shape == (3, 8) and logits is None
    one = model.clip_embedding(features["appearance"][1:2, :3], torch.tensor([3]))
    assert torch.allclose(embedding[1], one[0], atol=1e-6)


def test_retrieval_metrics_on_a_hand_made_matrix():
    scores = np.array([[0.9, 0.1, 0.0], [0.8, 0.5, 0.2], [0.1, 0.7, 0.3]])
    # ranks of the right candidate: 1, 2, 2
    m = retrieval_metrics(scores, ks=(1, 2, 5))
    assert m["r1"] == pytest.approx(100 / 3) and m["r2"] == 100.0 and m["r5"] == 100.0
    assert m["medr"] == 2.0 and m["meanr"] == pytest.approx(5 / 3)
    ties = retrieval_metrics(np.ones((4, 4)))
    assert ties["r1"] == 0.0 and ties["medr"] == 4.0  # a tie counts against the query
    c = chance_metrics(12)
    assert c["r1"] == pytest.approx(100 / 12) and c["r5"] == pytest.approx(500 / 12)
    assert c["r50"] == 100.0 and c["medr"] == 6.5
