"""Identity resolution: persons equal the connected components of the match graph (checked
with an independent union-find in Python) and, at the small scale, pairwise precision and
recall against the generator's ground truth reach 0.99 / 0.97."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from crm.build import build
from crm.settings import DBT_PROJECT_DIR

SMALL_SEED = 42
PRECISION_TARGET = 0.99
RECALL_TARGET = 0.97


def _query(db: Path, sql: str) -> pd.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def _pairs(labels: pd.Series) -> int:
    """Unordered pairs of records sharing a label."""
    sizes = labels.value_counts()
    return int((sizes * (sizes - 1) // 2).sum())


def pairwise_scores(predicted: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """Pairwise precision/recall of `predicted` (customer_key) against `truth` (person_id)
    over the source contacts present in both."""
    keys = ["source_system", "source_contact_id"]
    joined = predicted.merge(truth, on=keys, how="inner")
    predicted_pairs = _pairs(joined["customer_key"])
    true_pairs = _pairs(joined["person_id"])
    correct_pairs = _pairs(joined["customer_key"] + "|" + joined["person_id"])
    return {
        "contacts": len(joined),
        "predicted_pairs": predicted_pairs,
        "true_pairs": true_pairs,
        "correct_pairs": correct_pairs,
        "precision": correct_pairs / predicted_pairs if predicted_pairs else 1.0,
        "recall": correct_pairs / true_pairs if true_pairs else 1.0,
    }


def _union_find_components(contacts: pd.DataFrame, max_per_value: int, blocked: set) -> dict:
    parent: dict[str, str] = {key: key for key in contacts["contact_key"]}

    def find(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for column, kind in (("email_normalized", "email"), ("phone_normalized", "phone")):
        groups = contacts.dropna(subset=[column]).groupby(column)["contact_key"]
        for value, members in groups:
            keys = sorted(set(members))
            if (kind, value) in blocked or len(keys) > max_per_value:
                continue
            for other in keys[1:]:
                parent[find(other)] = find(keys[0])
    return {key: find(key) for key in parent}


def test_persons_are_the_connected_components_of_shared_emails_and_phones(built_db: Path):
    contacts = _query(
        built_db,
        "select contact_key, email_normalized, phone_normalized from staging.stg_raw__contacts",
    )
    resolved = _query(
        built_db,
        "select contact_key, customer_key, match_rule from intermediate.int_contacts_resolved",
    )
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    blocklist = pd.read_csv(DBT_PROJECT_DIR / "seeds" / "identity_blocklist.csv", dtype=str)
    blocked = set(zip(blocklist["match_type"], blocklist["match_value"], strict=True))
    roots = _union_find_components(
        contacts, project["vars"]["identity_max_contacts_per_value"], blocked
    )

    resolved["root"] = resolved["contact_key"].map(roots)
    assert resolved["root"].notna().all()
    # Same partition: each person is exactly one component and vice versa.
    assert (resolved.groupby("customer_key")["root"].nunique() == 1).all()
    assert (resolved.groupby("root")["customer_key"].nunique() == 1).all()
    merged = resolved.groupby("customer_key").size()
    assert (merged > 1).sum() > 10, "the sample should contain multi-source persons"
    # One anchor per person.
    anchors = resolved[resolved["match_rule"] == "anchor"].groupby("customer_key").size()
    assert anchors.reindex(merged.index).eq(1).all()


@pytest.fixture(scope="module")
def small_identities(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Path]:
    from generator import generate
    from ingestion import ingest

    root = tmp_path_factory.mktemp("identity_small")
    data = root / "data"
    db = root / "crm.duckdb"
    generate(data, scale="small", seed=SMALL_SEED)
    ingest(data, db)
    result = build(db, select=["+customer_identities"], target_path=root / "target")
    assert result.success, result.summary
    predicted = _query(
        db, "select source_system, source_contact_id, customer_key from marts.customer_identities"
    )
    return predicted, data / "_truth" / "contact_person.csv"


@pytest.mark.slow
def test_identity_resolution_precision_and_recall_at_small_scale(small_identities, capsys):
    predicted, truth_file = small_identities
    truth = pd.read_csv(truth_file, dtype=str)
    scores = pairwise_scores(predicted, truth)
    with capsys.disabled():
        print(
            f"\nidentity resolution (small, seed {SMALL_SEED}): "
            f"precision {scores['precision']:.4f}, recall {scores['recall']:.4f} "
            f"({scores['correct_pairs']} of {scores['predicted_pairs']} predicted pairs correct, "
            f"{scores['true_pairs']} true pairs, {scores['contacts']} contacts)"
        )
    # Every loaded contact has a person; contacts missing from the warehouse were rejected.
    assert scores["contacts"] == len(predicted)
    assert scores["precision"] >= PRECISION_TARGET
    assert scores["recall"] >= RECALL_TARGET


def test_pairwise_scores_count_pairs_not_records():
    truth = pd.DataFrame(
        {
            "source_system": ["crm", "web", "pos", "crm"],
            "source_contact_id": ["1", "2", "3", "4"],
            "person_id": ["P1", "P1", "P1", "P2"],
        }
    )
    # One wrong merge (4 with 1) and one miss (3 alone): 3 true pairs, 3 predicted, 1 right.
    predicted = truth.assign(customer_key=["K1", "K1", "K3", "K1"]).drop(columns="person_id")
    scores = pairwise_scores(predicted, truth)
    assert scores["true_pairs"] == 3 and scores["predicted_pairs"] == 3
    assert scores["correct_pairs"] == 1
    assert scores["precision"] == pytest.approx(1 / 3)
    assert scores["recall"] == pytest.approx(1 / 3)
