'use strict';
/*
 * An SMSC built on node-smpp (npm "smpp", pinned in package.json), used to check our
 * ESME against an SMPP implementation written elsewhere.
 *
 *   node smsc.js PORT        (0: an ephemeral port)
 *
 * stdout: one JSON object per line, first {"event":"listening","port":N}, then one per
 * thing that happened (bind, submit_sm, enquire_link, unbind, deliver_sm_resp, ...).
 * stdin: one JSON command per line:
 *   {"cmd":"mo","source":"84905123456","destination":"8083","text":"MCKH 0101701234","parts":1}
 *   {"cmd":"enquire_link"}   enquire_link to every bound session
 *   {"cmd":"unbind"}         unbind to every bound session, socket closed after the answer
 *   {"cmd":"close"}          drop every socket at once
 *   {"cmd":"config","receipt_tlvs":false}   receipts carry the text form only (decimal id)
 * End of stdin ends the process.
 *
 * Accepted credentials: system_id "motcua", password "secret".
 *
 * Bytes are handled as bytes: node-smpp decodes short_message into text (by data_coding,
 * with the UDH cut off) before a handler sees it, so the raw octets are kept aside while
 * node-smpp decodes, and every deliver_sm this server sends carries a Buffer, which
 * node-smpp writes unchanged.
 */

const readline = require('readline');
const smpp = require('smpp');

const SYSTEM_ID = 'motcua';
const PASSWORD = 'secret';
const RECEIPT_DELAY_MS = 50;
const UNBIND_CLOSE_MS = 1000;

const ESM_UDHI = 0x40;
const ESM_DELIVERY_RECEIPT = 0x04;
const DC_GSM = 0x00;
const DC_UCS2 = 0x08;
const STATE_DELIVERED = 2;

function emit(event, fields) {
  process.stdout.write(JSON.stringify(Object.assign({ event: event }, fields || {})) + '\n');
}

function fail(where, err) {
  emit('error', {
    where: where,
    message: String((err && err.message) || err),
    stack: err && err.stack ? String(err.stack) : undefined,
  });
}

process.on('uncaughtException', function (err) {
  fail('uncaughtException', err);
});
process.on('unhandledRejection', function (err) {
  fail('unhandledRejection', err);
});

// -- raw octets --------------------------------------------------------------------------
// PDU.prototype._filter('decode') turns short_message / message_payload into
// {udh, message: <decoded text>}. Keep the octets node-smpp read off the wire, before that.
const PDU = smpp.PDU;
const originalFilter = PDU.prototype._filter;
PDU.prototype._filter = function (func) {
  if (func === 'decode') {
    const raw = {};
    for (const key of ['short_message', 'message_payload']) {
      if (Buffer.isBuffer(this[key])) {
        raw[key] = Buffer.from(this[key]);
      }
    }
    Object.defineProperty(this, '_raw', { value: raw, enumerable: false, writable: true });
  }
  return originalFilter.call(this, func);
};

function rawOctets(pdu, key) {
  return (pdu._raw && pdu._raw[key]) || Buffer.alloc(0);
}

function describeDecoded(value) {
  // node-smpp's own reading of the message, kept in the log for comparison only.
  if (value == null) return null;
  if (Buffer.isBuffer(value)) return { message_hex: value.toString('hex') };
  const out = {};
  if (value.udh) out.udh_hex = value.udh.map((u) => Buffer.from(u).toString('hex'));
  if (Buffer.isBuffer(value.message)) out.message_hex = value.message.toString('hex');
  else out.message = value.message;
  return out;
}

// -- state -------------------------------------------------------------------------------
let nextSessionId = 1;
let nextMessageId = 0x0a1b2c00; // hex form has letters and a leading zero: "0A1B2C00"
let nextMoReference = 0x30;
const sessions = new Set();
const settings = { receipt_tlvs: true };

function formatHexId(n) {
  return n.toString(16).toUpperCase().padStart(8, '0');
}

function smppDate(d) {
  const p = (n) => String(n).padStart(2, '0');
  return (
    p(d.getFullYear() % 100) +
    p(d.getMonth() + 1) +
    p(d.getDate()) +
    p(d.getHours()) +
    p(d.getMinutes())
  );
}

function canReceive(session) {
  return session.bound === 'transceiver' || session.bound === 'receiver';
}

function canTransmit(session) {
  return session.bound === 'transceiver' || session.bound === 'transmitter';
}

function receiverFor(systemId) {
  let found = null;
  for (const s of sessions) {
    if (s.bound && canReceive(s) && s.systemId === systemId) found = s; // the newest wins
  }
  return found;
}

function anyReceiver() {
  let found = null;
  for (const s of sessions) {
    if (s.bound && canReceive(s)) found = s;
  }
  return found;
}

// -- inbound PDUs ------------------------------------------------------------------------
const BIND_MODES = {
  bind_transceiver: 'transceiver',
  bind_transmitter: 'transmitter',
  bind_receiver: 'receiver',
};

function onBind(session, pdu) {
  const mode = BIND_MODES[pdu.command];
  let status = smpp.ESME_ROK;
  if (session.bound) status = smpp.ESME_RALYBND;
  else if (pdu.system_id !== SYSTEM_ID) status = smpp.ESME_RINVSYSID;
  else if (pdu.password !== PASSWORD) status = smpp.ESME_RINVPASWD;
  emit('bind', {
    session: session.id,
    command: pdu.command,
    mode: mode,
    system_id: pdu.system_id,
    system_type: pdu.system_type,
    interface_version: pdu.interface_version,
    command_status: status,
  });
  if (status !== smpp.ESME_ROK) {
    session.send(pdu.response({ command_status: status }));
    return;
  }
  session.bound = mode;
  session.systemId = pdu.system_id;
  session.send(pdu.response({ system_id: 'node-smpp' }));
}

function onSubmit(session, pdu) {
  if (!session.bound || !canTransmit(session)) {
    emit('submit_sm_refused', { session: session.id, bound: session.bound || null });
    session.send(pdu.response({ command_status: smpp.ESME_RINVBNDSTS }));
    return;
  }
  const counter = nextMessageId++;
  const messageId = formatHexId(counter);
  const raw = rawOctets(pdu, 'short_message');
  const payload = rawOctets(pdu, 'message_payload');
  const record = {
    session: session.id,
    sequence_number: pdu.sequence_number,
    service_type: pdu.service_type,
    source_addr: pdu.source_addr,
    source_addr_ton: pdu.source_addr_ton,
    source_addr_npi: pdu.source_addr_npi,
    destination_addr: pdu.destination_addr,
    dest_addr_ton: pdu.dest_addr_ton,
    dest_addr_npi: pdu.dest_addr_npi,
    esm_class: pdu.esm_class,
    protocol_id: pdu.protocol_id,
    priority_flag: pdu.priority_flag,
    registered_delivery: pdu.registered_delivery,
    data_coding: pdu.data_coding,
    short_message_hex: raw.toString('hex'),
    message_id: messageId,
    node_decoded: describeDecoded(pdu.short_message),
    // validity_period as node-smpp reads it (a relative time becomes a Date from now):
    // the seconds it leaves, or null when none was sent.
    validity_s: pdu.validity_period instanceof Date
      ? Math.round((pdu.validity_period.getTime() - Date.now()) / 1000)
      : null,
  };
  if (payload.length) record.message_payload_hex = payload.toString('hex');
  emit('submit_sm', record);
  session.send(pdu.response({ message_id: messageId }), null, function () {
    if (pdu.registered_delivery & 0x01) {
      setTimeout(function () {
        sendReceipt(session, pdu, counter, raw);
      }, RECEIPT_DELAY_MS);
    }
  });
}

function receiptText(pdu, raw) {
  // The first 20 characters of the message, as printable ASCII: a receipt is plain text.
  let text = '';
  const decoded = pdu.short_message;
  if (decoded && typeof decoded.message === 'string') text = decoded.message;
  else text = raw.toString('latin1');
  return text
    .normalize('NFD')
    .replace(/[^\x20-\x7e]/g, '')
    .slice(0, 20);
}

function sendReceipt(origin, pdu, counter, raw) {
  const target = canReceive(origin) && origin.bound ? origin : receiverFor(origin.systemId);
  const hexId = formatHexId(counter);
  if (!target) {
    emit('receipt_undeliverable', { message_id: hexId, reason: 'no receiver bound' });
    return;
  }
  const now = new Date();
  const body =
    'id:' +
    String(counter) +
    ' sub:001 dlvrd:001 submit date:' +
    smppDate(now) +
    ' done date:' +
    smppDate(now) +
    ' stat:DELIVRD err:000 text:' +
    receiptText(pdu, raw);
  const fields = {
    source_addr_ton: pdu.dest_addr_ton,
    source_addr_npi: pdu.dest_addr_npi,
    source_addr: pdu.destination_addr,
    dest_addr_ton: pdu.source_addr_ton,
    dest_addr_npi: pdu.source_addr_npi,
    destination_addr: pdu.source_addr,
    esm_class: ESM_DELIVERY_RECEIPT,
    data_coding: DC_GSM,
    short_message: Buffer.from(body, 'ascii'),
  };
  if (settings.receipt_tlvs) {
    fields.receipted_message_id = hexId;
    fields.message_state = STATE_DELIVERED;
  }
  const sent = target.deliver_sm(fields, function (resp) {
    emit('deliver_sm_resp', {
      session: target.id,
      kind: 'receipt',
      message_id: hexId,
      command_status: resp.command_status,
    });
  });
  emit('receipt_sent', {
    session: target.id,
    message_id: hexId,
    decimal_id: String(counter),
    text: body,
    tlvs: settings.receipt_tlvs,
    written: sent,
  });
}

// -- commands from stdin -----------------------------------------------------------------
function gsmEncodable(text) {
  return smpp.encodings.ASCII.match(text);
}

function encodeChunk(text, dataCoding) {
  if (dataCoding === DC_UCS2) return Buffer.from(smpp.encodings.UCS2.encode(text));
  return Buffer.from(smpp.gsmCoder.encode(text, 0x00)); // GSM 03.38, one septet per octet
}

function splitText(text, parts) {
  // Cut between code points (never inside a surrogate pair), as evenly as possible.
  const chars = Array.from(text);
  const out = [];
  for (let i = 0; i < parts; i++) {
    const start = Math.floor((i * chars.length) / parts);
    const end = Math.floor(((i + 1) * chars.length) / parts);
    out.push(chars.slice(start, end).join(''));
  }
  return out;
}

function sendMo(cmd) {
  const target = anyReceiver();
  const text = String(cmd.text || '');
  const parts = Math.max(1, Math.floor(Number(cmd.parts) || 1));
  if (!target) {
    emit('error', { where: 'mo', message: 'no receiver or transceiver session bound' });
    return;
  }
  const dataCoding =
    typeof cmd.data_coding === 'number' ? cmd.data_coding : gsmEncodable(text) ? DC_GSM : DC_UCS2;
  const base = {
    source_addr_ton: 1,
    source_addr_npi: 1,
    source_addr: String(cmd.source),
    dest_addr_ton: 0,
    dest_addr_npi: 0,
    destination_addr: String(cmd.destination),
    data_coding: dataCoding,
  };
  const pdus = [];
  if (parts === 1) {
    pdus.push(
      Object.assign({}, base, { esm_class: 0, short_message: encodeChunk(text, dataCoding) }),
    );
  } else {
    const reference =
      typeof cmd.reference === 'number' ? cmd.reference & 0xff : nextMoReference++ & 0xff;
    splitText(text, parts).forEach(function (chunk, i) {
      const udh = Buffer.from([0x05, 0x00, 0x03, reference, parts, i + 1]);
      pdus.push(
        Object.assign({}, base, {
          esm_class: ESM_UDHI,
          short_message: Buffer.concat([udh, encodeChunk(chunk, dataCoding)]),
        }),
      );
    });
    pdus.reverse(); // last part first: the ESME has to put them back in order
  }
  pdus.forEach(function (fields) {
    target.deliver_sm(fields, function (resp) {
      emit('deliver_sm_resp', {
        session: target.id,
        kind: 'mo',
        command_status: resp.command_status,
      });
    });
  });
  emit('mo_sent', {
    session: target.id,
    data_coding: dataCoding,
    parts: pdus.length,
    short_message_hex: pdus.map((p) => p.short_message.toString('hex')),
  });
}

function serverEnquireLink() {
  let count = 0;
  for (const s of sessions) {
    if (!s.bound) continue;
    count++;
    s.enquire_link({}, function (resp) {
      emit('enquire_link_resp', { session: s.id, command_status: resp.command_status });
    });
  }
  emit('enquire_link_sent', { sessions: count });
}

function serverUnbind() {
  let count = 0;
  for (const s of sessions) {
    if (!s.bound) continue;
    count++;
    const timer = setTimeout(() => s.destroy(), UNBIND_CLOSE_MS);
    s.unbind({}, function (resp) {
      emit('unbind_resp', { session: s.id, command_status: resp.command_status });
      clearTimeout(timer);
      s.bound = null;
      s.close();
    });
  }
  emit('unbind_sent', { sessions: count });
}

function closeAll() {
  const count = sessions.size;
  for (const s of sessions) s.destroy();
  emit('closed_all', { sessions: count });
}

function onCommand(line) {
  line = line.trim();
  if (!line) return;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (err) {
    fail('stdin', err);
    return;
  }
  switch (cmd.cmd) {
    case 'mo':
      sendMo(cmd);
      break;
    case 'enquire_link':
      serverEnquireLink();
      break;
    case 'unbind':
      serverUnbind();
      break;
    case 'close':
      closeAll();
      break;
    case 'config':
      if ('receipt_tlvs' in cmd) settings.receipt_tlvs = Boolean(cmd.receipt_tlvs);
      emit('config', { settings: settings });
      break;
    default:
      emit('error', { where: 'stdin', message: 'unknown command ' + JSON.stringify(cmd.cmd) });
  }
}

// -- server ------------------------------------------------------------------------------
const server = smpp.createServer(function (session) {
  session.id = nextSessionId++;
  session.bound = null;
  session.systemId = null;
  sessions.add(session);
  emit('connect', { session: session.id });

  session.on('error', function (err) {
    fail('session ' + session.id, err);
  });
  session.on('close', function () {
    sessions.delete(session);
    emit('disconnect', { session: session.id, bound: session.bound });
    session.bound = null;
  });

  session.on('pdu', function (pdu) {
    try {
      switch (pdu.command) {
        case 'bind_transceiver':
        case 'bind_transmitter':
        case 'bind_receiver':
          onBind(session, pdu);
          break;
        case 'submit_sm':
          onSubmit(session, pdu);
          break;
        case 'enquire_link':
          emit('enquire_link', { session: session.id });
          session.send(pdu.response());
          break;
        case 'unbind':
          emit('unbind', { session: session.id, bound: session.bound });
          session.bound = null;
          session.send(pdu.response(), null, function () {
            session.close();
          });
          break;
        case 'generic_nack':
          emit('generic_nack', { session: session.id, command_status: pdu.command_status });
          break;
        case 'unknown':
          emit('unknown_command', { session: session.id, command_id: pdu.command_id });
          session.send(pdu.response());
          break;
        default:
          if (!pdu.isResponse()) {
            emit('unsupported_command', { session: session.id, command: pdu.command });
            session.send(pdu.response({ command_status: smpp.ESME_RINVCMDID }));
          }
      }
    } catch (err) {
      fail('pdu ' + pdu.command, err);
    }
  });
});

server.on('error', function (err) {
  fail('server', err);
});

const port = Number(process.argv[2] || 0);
server.listen(port, '127.0.0.1', function () {
  emit('listening', { host: '127.0.0.1', port: server.address().port });
});

const input = readline.createInterface({ input: process.stdin });
input.on('line', onCommand);
input.on('close', function () {
  for (const s of sessions) s.destroy();
  server.close();
  process.exit(0);
});
