"""evidence: the custody log append-only and hash-chained (by the database), new custody actions,
the evidence's integrity status

Revision ID: 0019
Revises: 0012
Create Date: 2026-11-29 10:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0020'
branch_labels = None
depends_on = None

ACTIONS_BEFORE = ('UPLOADED', 'DOWNLOADED')
ACTIONS_AFTER = (*ACTIONS_BEFORE, 'DOWNLOAD_URL_ISSUED', 'EXPORTED', 'VERIFIED')
INTEGRITY = ('INTACT', 'MISSING', 'ALTERED', 'SUPERSEDED')
CHAINED = ('content_sha256', 'previous_sha256', 'chain_sha256', 'evidence_previous_sha256', 'evidence_chain_sha256')

# The hashes as evidence/chain.py defines them: fields `<length>:<value>` (NULL: `-`) joined by
# `|`; links over `<seq>:<previous>:<content>`. The head row's lock serialises appends.
FUNCTIONS = (r"""
CREATE FUNCTION custody_field(value text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN value IS NULL THEN '-' ELSE length(value)::text || ':' || value END
$$""", r"""
CREATE FUNCTION custody_link(seq bigint, previous text, content text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(seq::text || ':' || previous || ':' || content, 'UTF8')), 'hex')
$$""", r"""
CREATE FUNCTION custody_event_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    genesis constant text := repeat('0', 64);
    head_seq bigint;
    head_sha256 text;
    item_previous text;
BEGIN
    INSERT INTO custody_chain_head (id, seq, chain_sha256) VALUES (1, 0, genesis) ON CONFLICT (id) DO NOTHING;
    SELECT seq, chain_sha256 INTO head_seq, head_sha256 FROM custody_chain_head WHERE id = 1 FOR UPDATE;
    SELECT evidence_chain_sha256 INTO item_previous FROM custody_event
        WHERE evidence_id = NEW.evidence_id ORDER BY seq DESC LIMIT 1;
    NEW.seq := head_seq + 1;
    NEW.content_sha256 := encode(sha256(convert_to(concat_ws('|',
        custody_field(NEW.id::text), custody_field(NEW.evidence_id::text), custody_field(NEW.action),
        custody_field(NEW.actor_user_id::text), custody_field(NEW.actor_api_key_id::text),
        custody_field(NEW.actor_name),
        custody_field(to_char(NEW.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')),
        custody_field(NEW.detail)), 'UTF8')), 'hex');
    NEW.previous_sha256 := head_sha256;
    NEW.chain_sha256 := custody_link(NEW.seq, head_sha256, NEW.content_sha256);
    NEW.evidence_previous_sha256 := coalesce(item_previous, genesis);
    NEW.evidence_chain_sha256 := custody_link(NEW.seq, NEW.evidence_previous_sha256, NEW.content_sha256);
    UPDATE custody_chain_head SET seq = NEW.seq, chain_sha256 = NEW.chain_sha256 WHERE id = 1;
    RETURN NEW;
END
$$""", r"""
CREATE FUNCTION custody_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The chain head moves only inside custody_event_chain (trigger depth 2).
    IF TG_TABLE_NAME = 'custody_chain_head' AND TG_OP = 'UPDATE' AND pg_trigger_depth() > 1 THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the custody log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$""")

TRIGGERS = (
    "CREATE TRIGGER custody_event_chain BEFORE INSERT ON custody_event "
    "FOR EACH ROW EXECUTE FUNCTION custody_event_chain()",
    "CREATE TRIGGER custody_event_append_only BEFORE UPDATE OR DELETE ON custody_event "
    "FOR EACH ROW EXECUTE FUNCTION custody_append_only()",
    "CREATE TRIGGER custody_chain_head_append_only BEFORE UPDATE OR DELETE ON custody_chain_head "
    "FOR EACH ROW EXECUTE FUNCTION custody_append_only()",
)


def _allow_actions(actions: tuple[str, ...]) -> None:
    allowed = ", ".join(f"'{action}'" for action in actions)
    op.drop_constraint(op.f('ck_custody_event_custody_action'), 'custody_event', type_='check')
    op.create_check_constraint(op.f('ck_custody_event_custody_action'), 'custody_event', f'action IN ({allowed})')


def upgrade() -> None:
    _allow_actions(ACTIONS_AFTER)
    op.add_column('evidence', sa.Column('integrity_status', sa.Enum(
        *INTEGRITY, name='evidence_integrity_status', native_enum=False, create_constraint=True, length=32),
        nullable=True))
    op.add_column('evidence', sa.Column('integrity_checked_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_evidence_integrity_checked_at', 'evidence', ['integrity_checked_at'])

    op.create_table('custody_chain_head',
    sa.Column('id', sa.SmallInteger(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('chain_sha256', sa.String(length=64), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_custody_chain_head_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custody_chain_head'))
    )
    op.add_column('custody_event', sa.Column('detail', sa.Text(), nullable=True))
    op.add_column('custody_event', sa.Column('seq', sa.BigInteger(), nullable=True))
    for column in CHAINED:
        op.add_column('custody_event', sa.Column(column, sa.String(length=64), nullable=True))
    op.drop_index(op.f('ix_custody_event_evidence_id'), table_name='custody_event')
    op.create_index('ix_custody_event_evidence_id_seq', 'custody_event', ['evidence_id', 'seq'])
    op.create_unique_constraint(op.f('uq_custody_event_seq'), 'custody_event', ['seq'])
    for function in FUNCTIONS:
        op.execute(function)
    op.execute(TRIGGERS[0])
    # The entries written before the chain existed are chained now, oldest first, through the
    # trigger itself; an upload's entry attests the hash, size and version recorded for it.
    op.execute("CREATE TEMPORARY TABLE custody_before_chain AS SELECT * FROM custody_event")
    op.execute("DELETE FROM custody_event")
    op.execute("""
        INSERT INTO custody_event (id, evidence_id, action, actor_user_id, actor_api_key_id, actor_name,
                                   occurred_at, detail)
        SELECT old.id, old.evidence_id, old.action, old.actor_user_id, old.actor_api_key_id, old.actor_name,
               old.occurred_at,
               CASE WHEN old.action = 'UPLOADED' THEN jsonb_build_object(
                   'objectKey', e.object_key, 'sha256', e.sha256, 'sizeBytes', e.size_bytes,
                   'versionId', e.version_id)::text END
        FROM custody_before_chain old JOIN evidence e ON e.id = old.evidence_id
        ORDER BY old.occurred_at, old.id
    """)
    op.execute("DROP TABLE custody_before_chain")
    op.alter_column('custody_event', 'seq', nullable=False)
    for column in CHAINED:
        op.alter_column('custody_event', column, nullable=False)
    op.execute("DROP TRIGGER custody_event_chain ON custody_event")
    for trigger in TRIGGERS:
        op.execute(trigger)


def downgrade() -> None:
    for trigger, table in (('custody_event_chain', 'custody_event'), ('custody_event_append_only', 'custody_event'),
                           ('custody_chain_head_append_only', 'custody_chain_head')):
        op.execute(f"DROP TRIGGER {trigger} ON {table}")
    for function in ("custody_append_only()", "custody_event_chain()", "custody_link(bigint, text, text)",
                     "custody_field(text)"):
        op.execute(f"DROP FUNCTION {function}")
    # Entries of the new kinds cannot be told in the old vocabulary; they go with the chain.
    op.execute("DELETE FROM custody_event WHERE action NOT IN ('UPLOADED', 'DOWNLOADED')")
    op.drop_constraint(op.f('uq_custody_event_seq'), 'custody_event', type_='unique')
    op.drop_index('ix_custody_event_evidence_id_seq', table_name='custody_event')
    op.create_index(op.f('ix_custody_event_evidence_id'), 'custody_event', ['evidence_id'], unique=False)
    for column in (*CHAINED, 'seq', 'detail'):
        op.drop_column('custody_event', column)
    op.drop_table('custody_chain_head')
    op.drop_index('ix_evidence_integrity_checked_at', table_name='evidence')
    op.drop_column('evidence', 'integrity_checked_at')
    op.drop_column('evidence', 'integrity_status')
    _allow_actions(ACTIONS_BEFORE)
