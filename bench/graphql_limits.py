"""What the GraphQL document limits cost on small queries (issue #2: at most 10%).

Three schemas, identical but for their limits, each with the parser and validation caches:
  baseline  no limits at all (the raw figure the others are compared with, measured in this run)
  ours      the platform's limits: token cap, and depth/alias rules built once per schema
  builtin   strawberry's QueryDepthLimiter + MaxAliasesLimiter + MaxTokensLimiter, for comparison
Each executes two documents repeatedly: a trivial `{ __typename }` and a realistic referral-list
document whose selection is validated in full but skipped at execution (`@skip`), so the timing
is parse + validate + the extension machinery, without a database. Run:
    .venv/bin/python -m bench.graphql_limits [--rounds 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import strawberry
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, ParserCache, QueryDepthLimiter, ValidationCache
from strawberry.schema.config import StrawberryConfig

from app.graphql import Mutation, PlatformSchema, Query, RequestTransaction, build_schema
from app.settings import ApiSettings
from geo.types import SCALARS

DOCUMENTS = {
    "trivial": "{ __typename }",
    "referral list": """
query ReferralList($first: Int, $after: String) {
  __typename
  referrals(first: $first, after: $after) @skip(if: true) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id status title address foundOn submittedAt areaMu areaHectares geometry
      domain { code nameZh }
      agency { id name kind jurisdiction { code name } }
      evidence { id filename mediaType sizeBytes sha256 downloadPath }
      history { action fromStatus toStatus actorName changedAt }
    } }
  }
}""",
}


def builtin_schema(api: ApiSettings) -> PlatformSchema:
    extensions = [
        RequestTransaction,
        lambda: ParserCache(maxsize=256),
        lambda: MaxTokensLimiter(max_token_count=api.max_tokens),
        lambda: QueryDepthLimiter(max_depth=api.max_query_depth),
        lambda: MaxAliasesLimiter(max_alias_count=api.max_aliases),
        lambda: ValidationCache(maxsize=256),
    ]
    return PlatformSchema(query=Query, mutation=Mutation, extensions=extensions,
                          config=StrawberryConfig(scalar_map=SCALARS))


async def per_request_seconds(schema: strawberry.Schema, document: str, rounds: int) -> float:
    """Median over 7 batches of the mean time of one execution."""
    for _ in range(200):  # warm the caches
        result = await schema.execute(document, variable_values={"first": 20})
        assert not result.errors, result.errors
    batches = []
    for _ in range(7):
        started = time.perf_counter()
        for _ in range(rounds // 7):
            await schema.execute(document, variable_values={"first": 20})
        batches.append((time.perf_counter() - started) / (rounds // 7))
    return statistics.median(batches)


async def main(rounds: int) -> None:
    api = ApiSettings()
    schemas = {
        "baseline": build_schema(api, production=False, document_limits=False),
        "ours": build_schema(api, production=False),
        "builtin": builtin_schema(api),
    }
    print(f"{'document':<15}{'schema':<10}{'µs/request':>12}{'× baseline':>12}")
    for name, document in DOCUMENTS.items():
        baseline = None
        for label, schema in schemas.items():
            seconds = await per_request_seconds(schema, document, rounds)
            baseline = baseline or seconds
            print(f"{name:<15}{label:<10}{seconds * 1e6:>12.1f}{seconds / baseline:>12.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=14000)
    asyncio.run(main(parser.parse_args().rounds))
