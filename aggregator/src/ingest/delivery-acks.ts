/**
 * End-to-end delivery, the aggregator's half: after each committed store batch it tells every sensor in the
 * batch which of its counts messages are now durable, on `passant/sensors/{id}/stored` (QoS 1, not retained):
 * `{ "v": 1, "seqs": [...] }`, at most MAX_STORED_SEQS seqs per message. Duplicates are acknowledged too: they are
 * stored already, and a sensor that sends a message again (because the acknowledgement of the first copy was
 * lost) must hear about it.
 *
 * The sensor frees exactly those outbox rows; the broker's PUBACK frees nothing. So a broker that loses queued
 * messages after its PUBACK (a crash before its persistence was saved) costs a re-send, not counts, and a lost
 * acknowledgement costs a re-send that is then acknowledged as a duplicate.
 *
 * Publishing never blocks the ingest: mqtt.js queues a QoS 1 publish made while disconnected and sends it on the
 * next connection; one lost with the process is repaired by the sensor's re-send.
 */
import type { MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { MAX_STORED_SEQS, topics, type StoredAck } from '@passant/shared';
import type { WrittenMessage } from './batch-writer.ts';

export interface DeliveryAcksStats {
  /** Acknowledgement messages handed to the MQTT client. */
  published: number;
  /** Seqs acknowledged in them. */
  seqs: number;
  /** Acknowledgements the client reported failed (the sensor sends those windows again). */
  failed: number;
}

export class DeliveryAcks {
  private readonly counts: DeliveryAcksStats = { published: 0, seqs: 0, failed: 0 };

  constructor(
    private readonly client: MqttClient,
    private readonly logger: Logger,
  ) {}

  get stats(): Readonly<DeliveryAcksStats> {
    return { ...this.counts };
  }

  /** Acknowledges one committed batch: one message (or a few, for long lists) per sensor in it. */
  onStored(written: readonly WrittenMessage[]): void {
    const bySensor = new Map<string, number[]>();
    for (const { message } of written) {
      let seqs = bySensor.get(message.sensorId);
      if (seqs === undefined) bySensor.set(message.sensorId, (seqs = []));
      seqs.push(message.seq);
    }
    for (const [sensorId, seqs] of bySensor) {
      const topic = topics.sensorStored(sensorId);
      for (let i = 0; i < seqs.length; i += MAX_STORED_SEQS) {
        const ack: StoredAck = { v: 1, seqs: seqs.slice(i, i + MAX_STORED_SEQS) };
        this.counts.published++;
        this.counts.seqs += ack.seqs.length;
        this.client.publish(topic, JSON.stringify(ack), { qos: 1, retain: false }, (err) => {
          if (err === undefined || err === null) return;
          this.counts.failed++;
          // The sensor re-sends what it does not hear about; a warning is enough.
          this.logger.warn({ sensorId, seqs: ack.seqs.length, err }, 'stored acknowledgement not delivered to the broker; the sensor will send those windows again');
        });
      }
    }
  }
}
