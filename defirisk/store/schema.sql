-- defirisk snapshot store: the one DDL file (schema version 1, see migrations.py).
--
-- Conventions, the same in every table:
--   * Addresses, market keys (pool / comptroller / Comet address, Morpho market id) and block hashes
--     are lower-case 0x hex strings; the writer refuses anything else.
--   * A uint256 amount is stored exactly as a decimal string in a `*_raw` VARCHAR column (no SQL
--     integer type holds 256 bits), next to its scaled DOUBLE twin (`collateral_raw` / `collateral`,
--     `price_raw` / `price`). The same column name has the same type in every table.
--   * Ratios are DOUBLE fractions (0.83 = 83 %). `extra`, `market_params` and `reconciliation` are
--     JSON objects whose integers are kept exactly (JSON text is stored verbatim).
--   * Every snapshot table carries `snapshot_id`. A snapshot is written in one transaction with
--     `complete` set last; readers only ever look at complete snapshots. The bookkeeping tables
--     (`defirisk_meta`, `discovered_accounts`, `discovery_cursor`) describe the database and the
--     account discovery of a deployment, not one snapshot, so they have no `snapshot_id`.

CREATE TABLE defirisk_meta (
    key   VARCHAR PRIMARY KEY,  -- 'application' = 'defirisk', 'schema_version' = '1', 'created_at'
    value VARCHAR NOT NULL
);

CREATE SEQUENCE snapshot_id_seq START 1;

CREATE TABLE snapshots (
    snapshot_id            BIGINT PRIMARY KEY,
    deployment             VARCHAR NOT NULL,
    family                 VARCHAR NOT NULL,
    chain_id               BIGINT,
    block_number           BIGINT,
    block_hash             VARCHAR,
    block_timestamp        BIGINT,     -- unix seconds of the block
    adapter_version        VARCHAR NOT NULL,
    price_source           VARCHAR NOT NULL,
    base_currency          VARCHAR NOT NULL,
    base_currency_decimals INTEGER NOT NULL,
    base_currency_usd      DOUBLE NOT NULL,
    rules_version          VARCHAR NOT NULL,
    label                  VARCHAR NOT NULL,
    offline                BOOLEAN NOT NULL,
    market_params          JSON NOT NULL,
    note                   VARCHAR NOT NULL,
    created_at             TIMESTAMP NOT NULL,  -- UTC
    complete               BOOLEAN NOT NULL,
    accounts_checked       BIGINT,     -- NULL: not reconciled with the chain
    mismatches             BIGINT,
    verified               BOOLEAN NOT NULL,
    reconciliation         JSON
);

-- One row per (market, asset).
CREATE TABLE assets (
    snapshot_id                 BIGINT NOT NULL,
    market                      VARCHAR NOT NULL,
    asset                       VARCHAR NOT NULL,
    symbol                      VARCHAR NOT NULL,  -- verbatim from the token (untrusted)
    name                        VARCHAR NOT NULL,  -- verbatim from the token (untrusted)
    decimals                    INTEGER NOT NULL,
    price_raw                   VARCHAR NOT NULL,
    price                       DOUBLE NOT NULL,
    price_usd                   DOUBLE NOT NULL,
    ltv                         DOUBLE NOT NULL,
    liquidation_threshold       DOUBLE NOT NULL,
    liquidation_bonus           DOUBLE NOT NULL,
    protocol_fee                DOUBLE NOT NULL,
    reserve_factor              DOUBLE NOT NULL,
    supply_cap                  DOUBLE NOT NULL,
    borrow_cap                  DOUBLE NOT NULL,
    debt_ceiling                DOUBLE NOT NULL,
    is_isolated                 BOOLEAN NOT NULL,
    borrowable_in_isolation     BOOLEAN NOT NULL,
    is_siloed                   BOOLEAN NOT NULL,
    usage_as_collateral_enabled BOOLEAN NOT NULL,
    borrowing_enabled           BOOLEAN NOT NULL,
    is_active                   BOOLEAN NOT NULL,
    is_frozen                   BOOLEAN NOT NULL,
    is_paused                   BOOLEAN NOT NULL,
    emode_category              INTEGER NOT NULL,
    extra                       JSON
);

-- One row per (market, e-mode category).
CREATE TABLE emodes (
    snapshot_id           BIGINT NOT NULL,
    market                VARCHAR NOT NULL,
    category              INTEGER NOT NULL,
    label                 VARCHAR NOT NULL,  -- from the chain (untrusted)
    ltv                   DOUBLE NOT NULL,
    liquidation_threshold DOUBLE NOT NULL,
    liquidation_bonus     DOUBLE NOT NULL,
    price_source          VARCHAR,           -- NULL: the assets' own oracles apply
    price_raw             VARCHAR
);

-- One row per (market, account).
CREATE TABLE accounts (
    snapshot_id    BIGINT NOT NULL,
    market         VARCHAR NOT NULL,
    account        VARCHAR NOT NULL,
    emode_category INTEGER NOT NULL,
    extra          JSON
);

-- One row per (market, account, asset) with a non-zero collateral or debt.
CREATE TABLE positions (
    snapshot_id        BIGINT NOT NULL,
    market             VARCHAR NOT NULL,
    account            VARCHAR NOT NULL,
    asset              VARCHAR NOT NULL,
    collateral_raw     VARCHAR NOT NULL,
    collateral         DOUBLE NOT NULL,
    debt_raw           VARCHAR NOT NULL,
    debt               DOUBLE NOT NULL,
    collateral_enabled BOOLEAN NOT NULL
);

-- Values where our reference maths disagreed with the protocol's own view; `ours` and `chain` are
-- the compared values as text (integers in exact decimal).
CREATE TABLE reconciliation_mismatches (
    snapshot_id BIGINT NOT NULL,
    market      VARCHAR NOT NULL,
    account     VARCHAR,           -- NULL for a market-wide value
    field       VARCHAR NOT NULL,
    ours        VARCHAR,
    chain       VARCHAR
);

-- Every account seen in a deployment's events, and the first block it was seen in.
CREATE TABLE discovered_accounts (
    deployment  VARCHAR NOT NULL,
    chain_id    BIGINT NOT NULL,
    market      VARCHAR NOT NULL,
    account     VARCHAR NOT NULL,
    first_block BIGINT NOT NULL
);

-- How far a deployment's events have been scanned: the next discovery starts after this block. It is
-- written in the same transaction as the accounts it found, so it never runs ahead of them.
CREATE TABLE discovery_cursor (
    deployment       VARCHAR NOT NULL,
    chain_id         BIGINT NOT NULL,
    scanned_to_block BIGINT NOT NULL,
    updated_at       TIMESTAMP NOT NULL,  -- UTC
    PRIMARY KEY (deployment, chain_id)
);
