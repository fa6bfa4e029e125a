/**
 * An in-process MQTT broker (aedes 1.x: `await Aedes.createBroker()`) on 127.0.0.1, port 0 or a given port, for
 * tests. It records every PUBLISH a client sent, in order.
 *
 *   const broker = await startAedes();
 *   try { ... mqtt.connectAsync(broker.url) ... broker.published ... broker.aedes.on('ack', ...) } finally { await broker.close(); }
 */
import net from 'node:net';
import { Aedes, type AedesPublishPacket, type Client } from 'aedes';

export interface TestBroker {
  aedes: Aedes;
  port: number;
  /** `mqtt://127.0.0.1:<port>` */
  url: string;
  /** Every PUBLISH the broker received from a client (topic, payload, qos, retain), in order. */
  published: { topic: string; payload: Buffer; qos: number; retain: boolean; clientId: string | null }[];
  /** Closes the broker and its listener, dropping every client connection. Safe to call twice. */
  close(): Promise<void>;
}

export async function startAedes(port = 0): Promise<TestBroker> {
  const aedes = await Aedes.createBroker();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  const published: TestBroker['published'] = [];
  aedes.on('publish', (packet: AedesPublishPacket, client: Client | null) => {
    if (client === null) return; // the broker's own ($SYS, wills are published with client null)
    published.push({ topic: packet.topic, payload: Buffer.from(packet.payload as Buffer), qos: packet.qos, retain: packet.retain, clientId: client.id });
  });
  let closed = false;
  return {
    aedes,
    port: address.port,
    url: `mqtt://127.0.0.1:${address.port}`,
    published,
    async close() {
      if (closed) return;
      closed = true;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}
