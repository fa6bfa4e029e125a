/**
 * Acknowledge after store, without reading one message at a time.
 *
 * mqtt.js (5.x, lib/handlers/publish.js) hands the next incoming packet to the client only after the previous
 * QoS 1 PUBLISH went through `handleMessage` and its PUBACK was written: `client.handleMessage(packet, cb)`, then
 * in `cb` `client._sendPacket({ cmd: 'puback', messageId }, done)`, where `done` lets the packet stream go on.
 * Waiting for the store write before calling `cb` therefore writes batches of one message.
 *
 * This module holds the PUBACK instead of the stream: `handleMessage` calls `cb` at once; the wrapped
 * `_sendPacket` keeps the PUBACK of a tracked message (and calls the stream's `done` at once, so the next packet is
 * read); the PUBACK is sent once the message's batch is committed (`release`), or never (`discard`: the broker
 * redelivers it on the next connection). PUBACKs leave in the order the PUBLISH packets came (MQTT 3.1.1 4.6 and
 * 5.0 4.6 ask for that); a message still being written holds back the acknowledgements of later ones.
 *
 * When the connection closes every held PUBACK is dropped: their message ids belong to the old connection; the
 * broker redelivers those messages to the persistent session and the store counts them as duplicates.
 *
 * Held PUBACKs are bounded (`maxHeld`): at the bound, the stream's `done` waits until an acknowledgement leaves,
 * so mqtt.js stops reading (TCP backpressure on the broker). Do not count on the broker's in-flight window
 * instead: Mosquitto's `max_inflight_messages` (20 by default; deploy/mosquitto/mosquitto.conf sets 100) holds
 * back the first window only; once PUBACKs flow, Mosquitto 2.0.11 was seen sending 900 unacknowledged messages
 * to one client with the limit at 100, and aedes has no such limit at all.
 *
 * `_sendPacket` is private to mqtt.js: `install` returns undefined when it is missing, and the caller keeps the
 * serial behaviour (acknowledge in `cb` after the write).
 */
import type { MqttClient, Packet } from 'mqtt';

/** One received QoS 1 PUBLISH whose PUBACK waits for its store write. */
export interface PubackTicket {
  readonly messageId: number;
}

type TicketState = 'pending' | 'ready' | 'discarded' | 'dropped';

interface Ticket extends PubackTicket {
  state: TicketState;
  /** The connection the message came on (mqtt.js makes a new stream for every connection). */
  stream: unknown;
  /** The PUBACK mqtt.js made for it, once `_sendPacket` was called. */
  packet: Packet | undefined;
}

type SendPacket = (packet: Packet, cb?: (err?: Error) => void, cbStorePut?: unknown, noStore?: boolean) => void;
type Done = (err?: Error) => void;

export interface PubackDeferralOptions {
  /** Most PUBACKs held at once; past it mqtt.js stops reading until one leaves. */
  maxHeld: number;
}

export interface PubackDeferralStats {
  /** PUBACKs sent after their message was stored. */
  sent: number;
  /** Held PUBACKs dropped because their connection closed (the broker redelivers those messages). */
  dropped: number;
  /** Messages deliberately left unacknowledged (store failure, shutdown). */
  discarded: number;
}

interface ClientWithSender {
  _sendPacket?: unknown;
  stream?: unknown;
  connected: boolean;
}

export class PubackDeferral {
  /** Tickets of the current connection, in arrival order: PUBACKs leave from the head. */
  private queue: Ticket[] = [];
  /** Tickets whose PUBACK mqtt.js has not handed over yet, by message id. */
  private readonly awaiting = new Map<number, Ticket>();
  /** The packet stream's `done`, kept while the number of held PUBACKs is at its bound. */
  private paused: Done | undefined;
  private readonly counts: PubackDeferralStats = { sent: 0, dropped: 0, discarded: 0 };

  private constructor(
    private readonly client: MqttClient,
    private readonly send: SendPacket,
    private readonly options: PubackDeferralOptions,
  ) {
    client.on('close', () => this.dropAll());
  }

  /** True while mqtt.js is kept from handling the next packet because `maxHeld` PUBACKs are held. */
  get readingHeld(): boolean {
    return this.paused !== undefined;
  }

  /**
   * Wraps the client's private `_sendPacket`; returns undefined (nothing changed) when this mqtt.js has none.
   * Install before the first connection's packets are handled (right after `mqtt.connect`).
   */
  static install(client: MqttClient, options: PubackDeferralOptions): PubackDeferral | undefined {
    const target = client as unknown as ClientWithSender;
    const original = target._sendPacket;
    if (typeof original !== 'function') return undefined;
    if (!Number.isInteger(options.maxHeld) || options.maxHeld < 1) throw new RangeError(`maxHeld must be a positive integer, got ${options.maxHeld}`);
    const send = (original as SendPacket).bind(client);
    const deferral = new PubackDeferral(client, send, options);
    const wrapped: SendPacket = (packet, cb, cbStorePut, noStore) => {
      if (packet.cmd === 'puback' && deferral.capture(packet, cb)) return;
      send(packet, cb, cbStorePut, noStore);
    };
    target._sendPacket = wrapped;
    return deferral;
  }

  /** PUBACKs held now (messages received and not yet acknowledged). */
  get held(): number {
    return this.queue.length;
  }

  get stats(): Readonly<PubackDeferralStats> {
    return { ...this.counts };
  }

  /**
   * Registers a QoS 1 PUBLISH before mqtt.js's `handleMessage` callback is called: its PUBACK will be held.
   * A message that arrives while the client is not connected (a packet left over from a closed connection) is
   * never acknowledged: its PUBACK is swallowed, the broker redelivers it.
   */
  track(messageId: number): PubackTicket {
    const target = this.client as unknown as ClientWithSender;
    const ticket: Ticket = { messageId, state: 'pending', stream: target.stream, packet: undefined };
    this.awaiting.set(messageId, ticket);
    if (target.connected) this.queue.push(ticket);
    else ticket.state = 'dropped';
    return ticket;
  }

  /** True once mqtt.js has handed over the ticket's PUBACK (it does so inside the `handleMessage` callback). */
  captured(ticket: PubackTicket): boolean {
    return (ticket as Ticket).packet !== undefined;
  }

  /** The message is stored: its PUBACK may leave (after those of earlier messages). */
  release(ticket: PubackTicket): void {
    const t = ticket as Ticket;
    if (t.state !== 'pending') return;
    t.state = 'ready';
    this.flush();
  }

  /** The message must not be acknowledged (its write failed, or the ingest is stopping): the broker redelivers it. */
  discard(ticket: PubackTicket): void {
    const t = ticket as Ticket;
    if (t.state !== 'pending') return;
    t.state = 'discarded';
    this.counts.discarded++;
    this.flush();
  }

  /** Called by the wrapped `_sendPacket`: true when the PUBACK belongs to a tracked message and is now held. */
  private capture(packet: Packet, done: Done | undefined): boolean {
    const messageId = (packet as { messageId?: number }).messageId;
    if (messageId === undefined) return false;
    const ticket = this.awaiting.get(messageId);
    if (ticket === undefined) return false;
    this.awaiting.delete(messageId);
    ticket.packet = packet;
    if (done) {
      if (this.queue.length >= this.options.maxHeld && this.paused === undefined) this.paused = done;
      else done();
    }
    this.flush();
    return true;
  }

  /** Sends the PUBACKs at the head of the queue whose messages are stored; skips the discarded ones. */
  private flush(): void {
    const target = this.client as unknown as ClientWithSender;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (head.state === 'pending' || (head.state === 'ready' && head.packet === undefined)) break;
      this.queue.shift();
      if (head.state !== 'ready') continue;
      if (target.connected && target.stream === head.stream) {
        this.send(head.packet!);
        this.counts.sent++;
      } else {
        head.state = 'dropped';
        this.counts.dropped++;
      }
    }
    this.resumeIfBelowBound();
  }

  private resumeIfBelowBound(): void {
    if (this.paused === undefined || this.queue.length >= this.options.maxHeld) return;
    const done = this.paused;
    this.paused = undefined;
    done();
  }

  /** The connection closed: no held PUBACK may leave any more (its message ids belong to that connection). */
  private dropAll(): void {
    for (const ticket of this.queue) {
      if (ticket.state === 'pending' || ticket.state === 'ready') this.counts.dropped++;
      ticket.state = 'dropped';
    }
    this.queue = [];
    // mqtt.js hands a PUBACK over inside the `handleMessage` callback, so none of these can still come; a new
    // connection brings new message ids.
    this.awaiting.clear();
    // Let mqtt.js finish with the old connection's packet stream (it drops what is left of it).
    this.resumeIfBelowBound();
  }
}
