/**
 * The sensor's MQTT client: `mqtt.connect` for the URLs a sensor uses, without loading what it never uses.
 *
 * On its first call, `mqtt.connect` sets up every transport mqtt.js knows: WebSocket (the `ws` package, with
 * Node's http, https and zlib) and, through its TCP and TLS transports, a SOCKS proxy client. A sensor pays for
 * that in resident memory for as long as it runs (about 1.4 MB, measured with `npm run bench:live`), although it
 * connects over plain TCP (mqtt:, tcp:) or TLS (mqtts:, tls:, ssl:). For those, this module does what
 * `mqtt.connect` does (mqtt.js 5: the same URL reading, defaults and TLS checks, see mqtt/build/lib/connect/
 * index.js, tcp.js, tls.js) with Node's `net` and `tls` directly. Anything else (a WebSocket URL, a SOCKS proxy
 * set through mqtt.js's MQTTJS_SOCKS_PROXY, several servers) goes to `mqtt.connect` itself, unchanged.
 *
 * Also the publisher's client options (`sensorClientOptions`).
 */
import net from 'node:net';
import tls from 'node:tls';
import url from 'node:url';
import mqtt, { MqttClient, type IClientOptions } from 'mqtt';
import { mqttClientOptions, type MqttConnectionConfig } from '@passant/shared/mqtt-options';

/** URL schemes served here: mqtt.js's TCP transport for the first two, its TLS transport for the others. */
const TCP = new Set(['mqtt', 'tcp']);
const TLS = new Set(['mqtts', 'tls', 'ssl']);

/** The options mqtt.js's stream builders read (its `IClientOptions` plus what `connect` adds from the URL). */
type StreamOptions = IClientOptions & { hostname?: string; host?: string; port?: number; path?: string; servername?: string };

/** Like mqtt.js's tcp.js (without its SOCKS branch: a proxy goes to mqtt.connect). */
function tcpStream(opts: StreamOptions): net.Socket {
  opts.port = opts.port || 1883;
  opts.hostname = opts.hostname || opts.host || 'localhost';
  return net.createConnection({ port: opts.port, host: opts.hostname, ...(opts.path !== undefined ? { path: opts.path } : {}) });
}

/** Like mqtt.js's tls.js (without its SOCKS branch): TLS errors reach the client only when certificates are checked. */
function tlsStream(client: MqttClient, opts: StreamOptions): tls.TLSSocket {
  opts.port = opts.port || 8883;
  opts.host = opts.hostname || opts.host || 'localhost';
  if (net.isIP(opts.host) === 0 && !opts.servername) opts.servername = opts.host;
  opts.rejectUnauthorized = opts.rejectUnauthorized !== false;
  delete opts.path;
  const connection = tls.connect(opts as tls.ConnectionOptions);
  const handleTlsErrors = (err: Error): void => {
    if (opts.rejectUnauthorized) client.emit('error', err);
    connection.end();
  };
  connection.on('secureConnect', () => {
    if (opts.rejectUnauthorized && !connection.authorized) connection.emit('error', new Error('TLS not authorized'));
    else connection.removeListener('error', handleTlsErrors);
  });
  connection.on('error', handleTlsErrors);
  return connection;
}

/** `mqtt.connect(brokerUrl, options)`, served without mqtt.js's other transports when the URL is TCP or TLS. */
export function connectMqtt(brokerUrl: string, options: IClientOptions): MqttClient {
  // What mqtt.connect reads from the URL, the same way (the legacy parser: an IPv6 host without brackets, the
  // user name and password decoded).
  const parsed = url.parse(brokerUrl, true);
  const fromUrl: StreamOptions = {
    ...(parsed.port != null ? { port: Number(parsed.port) } : {}),
    host: parsed.hostname ?? undefined,
    protocol: parsed.protocol as IClientOptions['protocol'],
  } as StreamOptions;
  const opts: StreamOptions = { ...fromUrl, ...options };
  let protocol = (opts.protocol ?? '').replace(/:$/, '');
  const socksProxy = (opts as { socksProxy?: string }).socksProxy ?? process.env['MQTTJS_SOCKS_PROXY'];
  const unix = (opts as { unixSocket?: boolean }).unixSocket === true;
  // A client certificate turns mqtt: into mqtts: (mqtt.connect does so too; it refuses tcp: then, and so it still does).
  if (opts.cert && opts.key && protocol === 'mqtt') protocol = 'mqtts';
  const direct = TLS.has(protocol) || (TCP.has(protocol) && !(opts.cert && opts.key));
  if (!direct || socksProxy !== undefined || opts.servers !== undefined || unix) return mqtt.connect(brokerUrl, options);
  opts.protocol = protocol as IClientOptions['protocol'];
  delete opts.path;
  if (parsed.auth) {
    const m = /^(.+):(.+)$/.exec(parsed.auth);
    opts.username = m ? m[1] : parsed.auth;
    if (m) opts.password = m[2];
  }
  const clientId = parsed.query['clientId'];
  if (typeof clientId === 'string') opts.clientId = clientId;
  if (opts.clean === false && !opts.clientId) throw new Error('Missing clientId for unclean clients');
  const build = TLS.has(protocol) ? (client: MqttClient) => tlsStream(client, opts) : () => tcpStream(opts);
  const client = new MqttClient(build, opts);
  client.on('error', () => {});
  return client;
}

/**
 * The client options of the sensor's publisher: the shared ones (persistent session, timings, login, TLS files,
 * the offline status as last will) and what only the sensor needs.
 */
export function sensorClientOptions(m: MqttConnectionConfig, sensorId: string, willTopic: string, willPayload: string): IClientOptions {
  return mqttClientOptions(m, {
    clientId: `passant-sensor-${sensorId}`,
    will: { topic: willTopic, payload: willPayload },
    extra: {
      reconnectOnConnackError: true,
      // Subscribed anew on every connect (MqttPublisher's #onConnect), which also covers a session the broker lost.
      resubscribe: false,
      queueQoSZero: false,
      // No table of 65,536 pre-made two-byte buffers (mqtt-packet's number cache): about 7 MB of heap to save
      // microseconds per packet, for a sensor that sends a few packets a minute.
      writeCache: false,
    },
  });
}
