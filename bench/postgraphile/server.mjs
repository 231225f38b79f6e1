// PostGraphile 5, the peer the referral list is measured against (bench/__main__.py starts it).
// Environment: BENCH_PG_URL (a role that sees the compared rows), BENCH_PORT, BENCH_WORKERS.
// More than one worker runs through node:cluster, so it gets as many processes as our app.
import cluster from "node:cluster";
import { createServer } from "node:http";

import { postgraphile } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

const port = Number(process.env.BENCH_PORT);
const workers = Number(process.env.BENCH_WORKERS || "1");

async function serve() {
  const preset = {
    extends: [PostGraphileAmberPreset],
    // Order by any column, indexed or not, as our app and the raw query may: the comparison is of
    // the same plan, not of which orders each side allows.
    disablePlugins: ["PgIndexBehaviorsPlugin"],
    pgServices: [makePgService({ connectionString: process.env.BENCH_PG_URL, schemas: ["public"] })],
    grafserv: { graphqlPath: "/graphql", graphiql: false, watch: false },
    grafast: { explain: false },
  };
  const pgl = postgraphile(preset);
  const serv = pgl.createServ(grafserv);
  const server = createServer();
  server.keepAliveTimeout = 65_000;
  await serv.addTo(server);
  server.listen(port, "127.0.0.1");
}

if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i += 1) cluster.fork();
  cluster.on("exit", (worker, code) => {
    console.error(`postgraphile worker ${worker.process.pid} exited (${code})`);
    process.exit(1);
  });
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => {
      for (const worker of Object.values(cluster.workers)) worker.kill();
      process.exit(0);
    });
  }
} else {
  serve().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
