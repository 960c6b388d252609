/**
 * A TCP proxy on 127.0.0.1 that a test can cut: how a test makes PostgreSQL unreachable for one app
 * (or one store) without stopping the shared test server. `cut()` drops every open connection and
 * every new one at once (as a stopped server or a dropped network does); `restore()` forwards again.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private readonly open = new Set<Socket>();
  private cutOff = false;
  /** connections dropped while cut */
  refused = 0;
  /** connections forwarded */
  forwarded = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | null = null;
    const server = createServer((client) => {
      const p = proxy!;
      if (p.cutOff) {
        p.refused++;
        client.resetAndDestroy();
        return;
      }
      p.forwarded++;
      const upstream = connect({ host: targetHost, port: targetPort });
      p.open.add(client);
      p.open.add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        p.open.delete(client);
        p.open.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('tcp proxy: no port');
    proxy = new TcpProxy(server, address.port);
    return proxy;
  }

  /** `url` (a postgres:// URL) through this proxy */
  through(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  cut(): void {
    this.cutOff = true;
    for (const s of this.open) (s.readyState === 'open' ? s.resetAndDestroy() : s.destroy());
    this.open.clear();
  }

  restore(): void {
    this.cutOff = false;
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
