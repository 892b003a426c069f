"""the confirmed-counts change feed for agencies

Every change of a unit's public confirmation state (confirmed / open) or of its
confirmed counts stamps the row with the next position of its round's feed. The
stamp is taken by a deferred constraint trigger, at commit, from a row-locked
counter per round (``feed_counters``): a position is handed out only after the
transaction holding the one before has committed, so positions become visible
in order and a reader past position n never misses a later-committed n-1
(docs/confirmation.md). A unit enters the feed when first confirmed; rows already
confirmed (or revoked) are stamped once, in the order of their last change.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

STAMP = """
CREATE FUNCTION confirmations_feed_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    next_seq bigint;
BEGIN
    INSERT INTO feed_counters AS f (round_id, last_seq) VALUES (NEW.round_id, 1)
        ON CONFLICT (round_id) DO UPDATE SET last_seq = f.last_seq + 1
        RETURNING f.last_seq INTO next_seq;
    UPDATE confirmations SET feed_seq = next_seq
        WHERE round_id = NEW.round_id AND unit_id = NEW.unit_id;
    RETURN NULL;
END
$$
"""

CHANGED = ("(OLD.state = 'confirmed') IS DISTINCT FROM (NEW.state = 'confirmed') "
           "OR OLD.counts IS DISTINCT FROM NEW.counts "
           "OR OLD.confirmed_at IS DISTINCT FROM NEW.confirmed_at "
           "OR OLD.seal_digest IS DISTINCT FROM NEW.seal_digest")


def upgrade():
    op.create_table(
        "feed_counters",
        sa.Column("round_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
    )
    op.add_column("confirmations", sa.Column("feed_seq", sa.BigInteger))
    op.execute("""
        UPDATE confirmations c SET feed_seq = n.seq
        FROM (SELECT round_id, unit_id,
                     row_number() OVER (PARTITION BY round_id ORDER BY updated_at, unit_id) AS seq
              FROM confirmations WHERE state = 'confirmed' OR revoked_at IS NOT NULL) n
        WHERE c.round_id = n.round_id AND c.unit_id = n.unit_id""")
    op.execute("INSERT INTO feed_counters (round_id, last_seq) SELECT round_id, max(feed_seq) "
               "FROM confirmations WHERE feed_seq IS NOT NULL GROUP BY round_id")
    op.create_index("uq_confirmations_feed", "confirmations", ["round_id", "feed_seq"], unique=True)
    op.execute(STAMP)
    op.execute("CREATE CONSTRAINT TRIGGER confirmations_feed_insert AFTER INSERT ON confirmations "
               "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.state = 'confirmed') "
               "EXECUTE FUNCTION confirmations_feed_stamp()")
    op.execute("CREATE CONSTRAINT TRIGGER confirmations_feed_update AFTER UPDATE ON confirmations "
               f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ({CHANGED}) "
               "EXECUTE FUNCTION confirmations_feed_stamp()")


def downgrade():
    op.execute("DROP TRIGGER confirmations_feed_update ON confirmations")
    op.execute("DROP TRIGGER confirmations_feed_insert ON confirmations")
    op.execute("DROP FUNCTION confirmations_feed_stamp()")
    op.drop_index("uq_confirmations_feed", table_name="confirmations")
    op.drop_column("confirmations", "feed_seq")
    op.drop_table("feed_counters")
