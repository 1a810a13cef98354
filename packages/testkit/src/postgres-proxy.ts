import * as net from "node:net";
import { databaseUrl } from "./services";

/**
 * A TCP proxy in front of the test Postgres that a test can break, so "Postgres goes away" needs no access to the
 * shared server: `forward` relays; `blackhole` accepts connections and never answers (a hung or partitioned
 * server); `refuse` resets every new connection at once (a server that is down); `cut()` resets the open ones.
 */
export class PostgresProxy {
  mode: "forward" | "blackhole" | "refuse" = "forward";
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly sockets = new Set<net.Socket>();
  private readonly upstream: { host: string; port: number };

  constructor() {
    const url = new URL(databaseUrl());
    this.upstream = { host: url.hostname, port: Number(url.port || 5432) };
  }

  /** Starts listening; returns the test database URL pointed at the proxy. */
  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    const { port } = this.server.address() as net.AddressInfo;
    const url = new URL(databaseUrl());
    url.hostname = "127.0.0.1";
    url.port = String(port);
    return url.toString();
  }

  break(mode: "blackhole" | "refuse"): void {
    this.mode = mode;
    this.cut();
  }

  restore(): void {
    this.mode = "forward";
    // Connections accepted while blackholed would hang until the client's own timeout: reset them now.
    this.cut();
  }

  cut(): void {
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    if (this.mode === "refuse") {
      client.on("error", () => undefined);
      client.resetAndDestroy();
      return;
    }
    this.track(client);
    if (this.mode === "blackhole") return;
    const server = net.connect(this.upstream);
    this.track(server);
    client.pipe(server).pipe(client);
    const destroyBoth = () => {
      client.destroy();
      server.destroy();
    };
    client.on("error", destroyBoth);
    server.on("error", destroyBoth);
    client.on("close", destroyBoth);
    server.on("close", destroyBoth);
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => this.sockets.delete(socket));
  }
}
