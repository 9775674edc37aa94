"""Resolution quality against the generator's ground truth (pairwise).

Pairwise precision = of all record pairs put in one profile, the share that
truly belong to one person; recall = of all truly same-person pairs, the
share put in one profile. Computed in SQL with GROUP BY, so it scales to
millions of records without loading them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from bot.profile import schema


@dataclass(frozen=True)
class Quality:
    records: int
    true_people: int
    profiles: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _pairs(conn: Connection, *group_by: object) -> tuple[int, int]:
    link, truth = schema.tp_link, schema.gt_record
    joined = link.join(truth, (truth.c.system == link.c.system) & (truth.c.record_id == link.c.record_id))
    sizes = select(func.count().label("n")).select_from(joined).group_by(*group_by).subquery()
    row = conn.execute(select(func.coalesce(func.sum(sizes.c.n * (sizes.c.n - 1) / 2), 0), func.count())).one()
    return int(row[0]), int(row[1])


def measure(conn: Connection) -> Quality:
    link, truth = schema.tp_link, schema.gt_record
    records = conn.execute(
        select(func.count()).select_from(link.join(truth, (truth.c.system == link.c.system) & (truth.c.record_id == link.c.record_id)))
    ).scalar_one()
    true_pairs, people = _pairs(conn, truth.c.person)
    predicted_pairs, profiles = _pairs(conn, link.c.customer_id)
    correct_pairs, _ = _pairs(conn, link.c.customer_id, truth.c.person)
    return Quality(int(records), people, profiles, true_pairs, predicted_pairs, correct_pairs)
