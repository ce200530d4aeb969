-- SPDX-License-Identifier: BSD-3-Clause
-- Wireshark dissector for spray's SRD transport (doc/protocol.md) and the
-- 16-byte application header spray gen/respond put at the start of every
-- message (lib/traffic/pattern.h).
--
-- The layouts, flag bits, limits and reject reasons mirror lib/wire/srd.h and
-- lib/wire/srd.cpp; when those change, change this file with them. Every
-- reason the codec rejects a packet for (SPRAY_SRD_ERRORS) is an expert error
-- here with the same name, so "srd.expert.bad_checksum" in Wireshark is
-- "malformed{reason=bad_checksum}" in spray's counters.
--
-- Use: tshark -X lua_script:tools/wireshark/spray.lua -r capture.pcap
-- or copy this file into Wireshark's personal Lua plugins folder
-- (tools/wireshark/README.md).

local srd = Proto("srd", "Spray SRD transport")
local app = Proto("sprayapp", "Spray application header")

local TYPE = {
  DATA = 1, ACK = 2, NACK = 3, PROBE = 4, PROBE_ACK = 5,
  CONNECT = 6, ACCEPT = 7, CLOSE = 8, RESET = 9,
}
local type_names = {
  [1] = "DATA", [2] = "ACK", [3] = "NACK", [4] = "PROBE", [5] = "PROBE_ACK",
  [6] = "CONNECT", [7] = "ACCEPT", [8] = "CLOSE", [9] = "RESET",
}
local SRD_VERSION = 1
local DATA_HDR_LEN = 32
-- Exact size of every control type, and where its hdr_csum sits.
local ctrl_len = { [2] = 40, [3] = 40, [4] = 20, [5] = 20, [6] = 40, [7] = 40, [8] = 20, [9] = 20 }
local csum_off = { [1] = 14, [2] = 30, [3] = 30, [4] = 16, [5] = 16, [6] = 34, [7] = 34, [8] = 16, [9] = 16 }

local nack_reasons = { [1] = "gap", [2] = "trimmed", [3] = "no buffer" }
local reset_reasons = { [1] = "unknown connection", [2] = "bad nonce", [3] = "aborted", [4] = "refused" }
local csum_status = { [0] = "Not present", [1] = "Good", [2] = "Bad" }

local MAGIC_REQUEST = 0x53505251  -- "SPRQ", little-endian on the wire
local MAGIC_REPLY = 0x53505250    -- "SPRP"
local REPLY_DEFAULT = 0xffffffff

-- ---------------------------------------------------------------------------
-- Fields
local f = {
  version = ProtoField.uint8("srd.version", "Version", base.DEC, nil, 0xf0),
  type = ProtoField.uint8("srd.type", "Type", base.DEC, type_names, 0x0f),
  flags = ProtoField.uint8("srd.flags", "Flags", base.HEX),
  -- DATA flags
  som = ProtoField.bool("srd.flags.som", "SOM (start of message)", 8, nil, 0x01),
  eom = ProtoField.bool("srd.flags.eom", "EOM (end of message)", 8, nil, 0x02),
  retx = ProtoField.bool("srd.flags.retx", "RETX (retransmission)", 8, nil, 0x04),
  ack_req = ProtoField.bool("srd.flags.ack_req", "ACK_REQ (acknowledge at once)", 8, nil, 0x08),
  ordered = ProtoField.bool("srd.flags.ordered", "ORDERED (msg_id order)", 8, nil, 0x10),
  data_rsvd = ProtoField.uint8("srd.flags.reserved", "Reserved", base.HEX, nil, 0xe0),
  -- ACK / NACK flags
  ece = ProtoField.bool("srd.flags.ece", "ECE (CE seen)", 8, nil, 0x01),
  retx_seen = ProtoField.bool("srd.flags.retx_seen", "RETX_SEEN", 8, nil, 0x02),
  dup = ProtoField.bool("srd.flags.dup", "DUP (duplicate received)", 8, nil, 0x04),
  nack_follows = ProtoField.bool("srd.flags.nack_follows", "NACK_FOLLOWS", 8, nil, 0x08),
  host_drop = ProtoField.bool("srd.flags.host_drop", "HOST_DROP (receiver's host dropped packets lately)", 8, nil, 0x40),
  ack_lost = ProtoField.bool("srd.flags.ack_lost", "ACK_LOST (the receiver's ACK of this packet was lost)", 8, nil, 0x80),
  nack_reason = ProtoField.uint8("srd.flags.nack_reason", "NACK reason", base.DEC, nack_reasons, 0x30),
  ack_rsvd = ProtoField.uint8("srd.flags.reserved", "Reserved", base.HEX, nil, 0x30),
  nack_rsvd = ProtoField.uint8("srd.flags.reserved", "Reserved", base.HEX, nil, 0x80),
  -- CLOSE flags
  close_ack = ProtoField.bool("srd.flags.close_ack", "CLOSE_ACK", 8, nil, 0x01),
  close_rsvd = ProtoField.uint8("srd.flags.reserved", "Reserved", base.HEX, nil, 0xfe),
  -- RESET carries a reason where the others have flags
  reset_reason = ProtoField.uint8("srd.reset_reason", "Reason", base.DEC, reset_reasons),

  path_id = ProtoField.uint16("srd.path_id", "Path id", base.DEC),
  dst_conn_id = ProtoField.uint32("srd.dst_conn_id", "Destination connection id", base.HEX),
  src_conn_id = ProtoField.uint32("srd.src_conn_id", "Source connection id", base.HEX),
  -- A connection id is generation << 20 | slot (doc/protocol.md).
  conn_gen = ProtoField.uint32("srd.conn_id.generation", "Generation", base.DEC, nil, 0xfff00000),
  conn_slot = ProtoField.uint32("srd.conn_id.slot", "Slot", base.DEC, nil, 0x000fffff),
  hdr_csum = ProtoField.uint16("srd.hdr_csum", "Header checksum", base.HEX),
  csum_status = ProtoField.uint8("srd.hdr_csum.status", "Header checksum status", base.DEC, csum_status),
  csum_calc = ProtoField.uint16("srd.hdr_csum.calculated", "Calculated header checksum", base.HEX),
  reserved = ProtoField.uint16("srd.reserved", "Reserved", base.HEX),

  -- DATA
  psn = ProtoField.uint32("srd.psn", "PSN", base.DEC),
  path_seq = ProtoField.uint16("srd.path_seq", "Path sequence", base.DEC),
  msg_id = ProtoField.uint32("srd.msg_id", "Message id", base.DEC),
  msg_off = ProtoField.uint32("srd.msg_off", "Message offset", base.DEC),
  msg_len = ProtoField.uint32("srd.msg_len", "Message length", base.DEC),
  tx_ts = ProtoField.uint32("srd.tx_ts", "TX timestamp (ns, low 32 bits)", base.DEC),
  payload_len = ProtoField.uint32("srd.payload_len", "Segment payload length", base.DEC),
  captured_len = ProtoField.uint32("srd.captured_len", "Bytes captured", base.DEC),

  -- ACK / NACK
  cum_psn = ProtoField.uint32("srd.cum_psn", "Cumulative PSN (all below received)", base.DEC),
  ack_psn = ProtoField.uint32("srd.ack_psn", "Acknowledged PSN", base.DEC),
  nack_psn = ProtoField.uint32("srd.nack_psn", "NACKed PSN", base.DEC),
  echo_ts = ProtoField.uint32("srd.echo_ts", "Echoed TX timestamp (ns)", base.DEC),
  rx_delay_ns = ProtoField.uint32("srd.rx_delay_ns", "Receiver delay (ns)", base.DEC),
  sack_off = ProtoField.uint16("srd.sack_off", "SACK offset", base.DEC),
  ce_count = ProtoField.uint16("srd.ce_count", "CE count", base.DEC),
  rwnd_pkts = ProtoField.uint16("srd.rwnd_pkts", "Receive window (packets)", base.DEC),
  sack_bits = ProtoField.uint64("srd.sack_bits", "SACK bitmap", base.HEX),
  sack_ranges = ProtoField.string("srd.sack_ranges", "SACKed PSNs"),

  -- CONNECT / ACCEPT
  nonce = ProtoField.uint32("srd.nonce", "Nonce", base.HEX),
  initial_psn = ProtoField.uint32("srd.initial_psn", "Initial PSN", base.DEC),
  paths = ProtoField.uint16("srd.paths", "Paths", base.DEC),
  mtu = ProtoField.uint16("srd.mtu", "MTU", base.DEC),
  caps = ProtoField.uint64("srd.caps", "Capabilities", base.HEX),
  cap_ordered = ProtoField.bool("srd.caps.ordered", "Ordered delivery", 32, nil, 0x00000001),
  cap_hdr_csum = ProtoField.bool("srd.caps.hdr_csum", "Header checksum", 32, nil, 0x00000002),

  -- CLOSE
  next_psn = ProtoField.uint32("srd.next_psn", "Next PSN (all below sent)", base.DEC),
}
srd.fields = f

local af = {
  magic = ProtoField.uint32("sprayapp.magic", "Magic", base.HEX,
                            { [MAGIC_REQUEST] = "SPRQ (request)", [MAGIC_REPLY] = "SPRP (reply)" }),
  conn_key = ProtoField.uint32("sprayapp.conn_key", "Connection key", base.DEC),
  seq = ProtoField.uint32("sprayapp.seq", "Sequence", base.DEC),
  reply_len = ProtoField.uint32("sprayapp.reply_len", "Reply length", base.DEC),
  is_request = ProtoField.bool("sprayapp.request", "Request"),
}
app.fields = af

-- One expert entry per SPRAY_SRD_ERRORS reason (lib/wire/srd.h).
local ex = {
  truncated = ProtoExpert.new("srd.expert.truncated", "Shorter than the fixed header of its type",
                              expert.group.MALFORMED, expert.severity.ERROR),
  bad_version = ProtoExpert.new("srd.expert.bad_version", "Version is not 1",
                                expert.group.MALFORMED, expert.severity.ERROR),
  unknown_type = ProtoExpert.new("srd.expert.unknown_type", "Type is not one of DATA..RESET",
                                 expert.group.MALFORMED, expert.severity.ERROR),
  bad_length = ProtoExpert.new("srd.expert.bad_length", "Length does not fit the type",
                               expert.group.MALFORMED, expert.severity.ERROR),
  bad_checksum = ProtoExpert.new("srd.expert.bad_checksum", "hdr_csum is set and does not match",
                                 expert.group.CHECKSUM, expert.severity.ERROR),
  bad_flags = ProtoExpert.new("srd.expert.bad_flags", "Reserved bits set or invalid reason",
                              expert.group.MALFORMED, expert.severity.ERROR),
  bad_segment = ProtoExpert.new("srd.expert.bad_segment", "msg_off + payload exceeds msg_len, or msg_len is zero",
                                expert.group.MALFORMED, expert.severity.ERROR),
  bad_handshake = ProtoExpert.new("srd.expert.bad_handshake", "Path count, MTU, window or source id out of range",
                                  expert.group.MALFORMED, expert.severity.ERROR),
  retransmission = ProtoExpert.new("srd.expert.retransmission", "Retransmission",
                                   expert.group.SEQUENCE, expert.severity.NOTE),
  nack = ProtoExpert.new("srd.expert.nack", "NACK", expert.group.SEQUENCE, expert.severity.NOTE),
  reset = ProtoExpert.new("srd.expert.reset", "Connection reset", expert.group.SEQUENCE, expert.severity.WARN),
}
srd.experts = ex

local aex = {
  reply_len_mismatch = ProtoExpert.new("sprayapp.expert.reply_len_mismatch",
                                       "Reply header length differs from the message length",
                                       expert.group.PROTOCOL, expert.severity.WARN),
}
app.experts = aex

-- ---------------------------------------------------------------------------
-- Preferences
srd.prefs.udp_port = Pref.uint("UDP port", 4792, "UDP destination port of the SRD transport (spray --udp-port)")
srd.prefs.verify_csum = Pref.bool("Verify hdr_csum", true, "Check a non-zero header checksum")
srd.prefs.app_header = Pref.bool("Decode spray's application header", true,
                                 "Decode the 16-byte header gen/respond put at the start of each message")
srd.prefs.heuristic = Pref.bool("Try heuristic dissection on other UDP ports", false,
                                "Claim UDP payloads that look like SRD (version, type, length and, "
                                .. "when set, hdr_csum) on any port")

local udp_table = DissectorTable.get("udp.port")
local data_dissector = Dissector.get("data")
local registered_port = 0

local function register_port()
  if registered_port == srd.prefs.udp_port then return end
  if registered_port ~= 0 then udp_table:remove(registered_port, srd) end
  registered_port = srd.prefs.udp_port
  if registered_port ~= 0 then udp_table:add(registered_port, srd) end
end

function srd.prefs_changed()
  register_port()
end

-- ---------------------------------------------------------------------------
-- Helpers

-- Same algorithm as srd_csum() in lib/wire/srd.h: ones' complement of the
-- ones' complement sum of the header's 16-bit words, the field itself taken
-- as 0; a computed 0 is sent as 0xffff.
local function srd_csum(tvb, len, off)
  local sum = 0
  for i = 0, len - 1, 2 do
    if i ~= off then sum = sum + tvb:range(i, 2):uint() end
  end
  sum = bit.band(sum, 0xffff) + bit.rshift(sum, 16)
  sum = bit.band(sum, 0xffff) + bit.rshift(sum, 16)
  local c = bit.band(bit.bnot(sum), 0xffff)
  if c == 0 then c = 0xffff end
  return c
end

local function add_conn_id(tree, field, range)
  local item = tree:add(field, range)
  item:add(f.conn_gen, range)
  item:add(f.conn_slot, range)
  return range:uint()
end

-- hdr_csum at `off` of a header `len` bytes long; returns false when it is
-- set and wrong.
local function add_csum(tree, tvb, len, off, problems)
  local range = tvb:range(off, 2)
  local item = tree:add(f.hdr_csum, range)
  local got = range:uint()
  if got == 0 then
    item:append_text(" [not present]")
    item:add(f.csum_status, 0):set_generated()
    return true
  end
  if not srd.prefs.verify_csum then
    item:append_text(" [unverified]")
    return true
  end
  local want = srd_csum(tvb, len, off)
  if got == want then
    item:append_text(" [correct]")
    item:add(f.csum_status, 1):set_generated()
    return true
  end
  item:append_text(string.format(" [incorrect, should be 0x%04x]", want))
  item:add(f.csum_status, 2):set_generated()
  item:add(f.csum_calc, want):set_generated()
  item:add_proto_expert_info(ex.bad_checksum,
                             string.format("Bad hdr_csum 0x%04x, should be 0x%04x", got, want))
  problems[#problems + 1] = "bad_checksum"
  return false
end

-- Reserved 16-bit field at `off` that must be zero.
local function add_reserved(tree, tvb, off, problems)
  local item = tree:add(f.reserved, tvb:range(off, 2))
  if tvb:range(off, 2):uint() ~= 0 then
    item:add_proto_expert_info(ex.bad_flags, "Reserved field is not zero")
    problems[#problems + 1] = "bad_flags"
  end
end

local function flag_names(value, names)
  local out = {}
  for _, n in ipairs(names) do
    if bit.band(value, n[1]) ~= 0 then out[#out + 1] = n[2] end
  end
  return table.concat(out, ",")
end

local data_flag_names = { { 0x01, "SOM" }, { 0x02, "EOM" }, { 0x04, "RETX" }, { 0x08, "ACK_REQ" }, { 0x10, "ORDERED" } }
local ack_flag_names = { { 0x01, "ECE" }, { 0x02, "RETX_SEEN" }, { 0x04, "DUP" }, { 0x08, "NACK_FOLLOWS" }, { 0x40, "HOST_DROP" }, { 0x80, "ACK_LOST" } }

-- PSNs named by the SACK bitmap, as "a-b, c": bit i is cum_psn + sack_off + i.
local function sack_ranges(cum_psn, sack_off, hi, lo)
  local out, start, prev = {}, nil, nil
  local function flush()
    if start == nil then return end
    if start == prev then
      out[#out + 1] = tostring(start)
    else
      out[#out + 1] = start .. "-" .. prev
    end
  end
  for i = 0, 63 do
    local word, b = lo, i
    if i >= 32 then word, b = hi, i - 32 end
    if bit.band(bit.rshift(word, b), 1) == 1 then
      local psn = (cum_psn + sack_off + i) % 4294967296
      if start ~= nil and psn == (prev + 1) % 4294967296 then
        prev = psn
      else
        flush()
        start, prev = psn, psn
      end
    end
  end
  flush()
  return table.concat(out, ", ")
end

-- ---------------------------------------------------------------------------
-- Application header (lib/traffic/pattern.h): magic, conn_key, seq,
-- reply_len, each 32-bit little-endian. Returns a short summary or nil when
-- the message does not start with spray's header.
local function dissect_app(tvb, pinfo, tree, msg_len)
  if tvb:len() < 16 then return nil end
  local magic = tvb:range(0, 4):le_uint()
  if magic ~= MAGIC_REQUEST and magic ~= MAGIC_REPLY then return nil end
  local t = tree:add(app, tvb:range(0, 16))
  t:add_le(af.magic, tvb:range(0, 4))
  t:add(af.is_request, magic == MAGIC_REQUEST):set_generated()
  t:add_le(af.conn_key, tvb:range(4, 4))
  t:add_le(af.seq, tvb:range(8, 4))
  local rl_item = t:add_le(af.reply_len, tvb:range(12, 4))
  local conn_key = tvb:range(4, 4):le_uint()
  local seq = tvb:range(8, 4):le_uint()
  local reply_len = tvb:range(12, 4):le_uint()
  local kind
  if magic == MAGIC_REQUEST then
    kind = "SPRQ"
    if reply_len == REPLY_DEFAULT then
      rl_item:append_text(" (the responder chooses)")
    elseif reply_len == 0 then
      rl_item:append_text(" (acknowledgement only)")
    end
  else
    kind = "SPRP"
    rl_item:append_text(" (this reply's own length)")
    if reply_len ~= msg_len then
      rl_item:add_proto_expert_info(aex.reply_len_mismatch,
                                    string.format("reply_len %d, message is %d bytes", reply_len, msg_len))
    end
  end
  t:append_text(string.format(", %s key=%d seq=%d reply_len=%d", kind, conn_key, seq, reply_len))
  return string.format("%s key=%d seq=%d", kind, conn_key, seq)
end

-- ---------------------------------------------------------------------------
-- Per-type bodies. Each is called with the whole fixed header present (the
-- caller has checked the length) and returns an Info summary; reasons it
-- found the packet malformed are appended to `problems`.

local function dissect_data(tvb, pinfo, tree, root, problems)
  local flags = tvb:range(1, 1):uint()
  local ft = tree:add(f.flags, tvb:range(1, 1))
  ft:append_text(" (" .. flag_names(flags, data_flag_names) .. ")")
  for _, fld in ipairs({ f.som, f.eom, f.retx, f.ack_req, f.ordered }) do ft:add(fld, tvb:range(1, 1)) end
  local rsvd = ft:add(f.data_rsvd, tvb:range(1, 1))
  if bit.band(flags, 0xe0) ~= 0 then
    rsvd:add_proto_expert_info(ex.bad_flags, "Reserved DATA flag bits set")
    problems[#problems + 1] = "bad_flags"
  end
  tree:add(f.path_id, tvb:range(2, 2))
  local conn = add_conn_id(tree, f.dst_conn_id, tvb:range(4, 4))
  tree:add(f.psn, tvb:range(8, 4))
  tree:add(f.path_seq, tvb:range(12, 2))
  add_csum(tree, tvb, DATA_HDR_LEN, 14, problems)
  tree:add(f.msg_id, tvb:range(16, 4))
  local off_item = tree:add(f.msg_off, tvb:range(20, 4))
  local len_item = tree:add(f.msg_len, tvb:range(24, 4))
  tree:add(f.tx_ts, tvb:range(28, 4))
  local psn = tvb:range(8, 4):uint()
  local msg_id = tvb:range(16, 4):uint()
  local msg_off = tvb:range(20, 4):uint()
  local msg_len = tvb:range(24, 4):uint()
  local payload_len = tvb:reported_len() - DATA_HDR_LEN
  tree:add(f.payload_len, payload_len):set_generated()

  if bit.band(flags, 0x04) ~= 0 then
    tree:add_proto_expert_info(ex.retransmission, string.format("Retransmission of PSN %d", psn))
  end
  if payload_len == 0 then
    tree:add_proto_expert_info(ex.bad_length, "DATA without payload")
    problems[#problems + 1] = "bad_length"
  elseif msg_len == 0 then
    len_item:add_proto_expert_info(ex.bad_segment, "msg_len is zero")
    problems[#problems + 1] = "bad_segment"
  elseif msg_off > msg_len or payload_len > msg_len - msg_off then
    off_item:add_proto_expert_info(ex.bad_segment,
                                   string.format("Segment [%d, %d) exceeds msg_len %d", msg_off,
                                                 msg_off + payload_len, msg_len))
    problems[#problems + 1] = "bad_segment"
  end

  local info = string.format("conn=0x%08x psn=%d msg=%d [%d..%d)/%d", conn, psn, msg_id, msg_off,
                             msg_off + payload_len, msg_len)
  local fl = flag_names(flags, data_flag_names)
  if fl ~= "" then info = info .. " " .. fl end

  if payload_len > 0 and tvb:len() > DATA_HDR_LEN then
    local payload = tvb:range(DATA_HDR_LEN):tvb()
    local app_info
    if srd.prefs.app_header and bit.band(flags, 0x01) ~= 0 and msg_off == 0 then
      app_info = dissect_app(payload, pinfo, root, msg_len)
    end
    if app_info then
      info = info .. " " .. app_info
      if payload:len() > 16 then data_dissector:call(payload:range(16):tvb(), pinfo, root) end
    else
      data_dissector:call(payload, pinfo, root)
    end
  end
  return info
end

local function dissect_ack(tvb, pinfo, tree, problems, nack)
  local flags = tvb:range(1, 1):uint()
  local ft = tree:add(f.flags, tvb:range(1, 1))
  local names = flag_names(flags, ack_flag_names)
  for _, fld in ipairs({ f.ece, f.retx_seen, f.dup, f.nack_follows, f.host_drop, f.ack_lost }) do ft:add(fld, tvb:range(1, 1)) end
  local reason = bit.rshift(bit.band(flags, 0x30), 4)
  if nack then
    local ri = ft:add(f.nack_reason, tvb:range(1, 1))
    local rsvd = ft:add(f.nack_rsvd, tvb:range(1, 1))
    if bit.band(flags, 0x80) ~= 0 then
      rsvd:add_proto_expert_info(ex.bad_flags, "Reserved NACK flag bits set")
      problems[#problems + 1] = "bad_flags"
    end
    if reason == 0 then
      ri:add_proto_expert_info(ex.bad_flags, "NACK without a reason")
      problems[#problems + 1] = "bad_flags"
    end
  else
    local rsvd = ft:add(f.ack_rsvd, tvb:range(1, 1))
    if bit.band(flags, 0x30) ~= 0 then
      rsvd:add_proto_expert_info(ex.bad_flags, "Reserved ACK flag bits set")
      problems[#problems + 1] = "bad_flags"
    end
  end
  ft:append_text(" (" .. names .. ")")
  tree:add(f.path_id, tvb:range(2, 2))
  local conn = add_conn_id(tree, f.dst_conn_id, tvb:range(4, 4))
  tree:add(f.cum_psn, tvb:range(8, 4))
  local ack_psn_item
  if nack then
    ack_psn_item = tree:add(f.nack_psn, tvb:range(12, 4))
  else
    ack_psn_item = tree:add(f.ack_psn, tvb:range(12, 4))
  end
  tree:add(f.echo_ts, tvb:range(16, 4))
  tree:add(f.rx_delay_ns, tvb:range(20, 4))
  tree:add(f.sack_off, tvb:range(24, 2))
  tree:add(f.ce_count, tvb:range(26, 2))
  tree:add(f.rwnd_pkts, tvb:range(28, 2))
  add_csum(tree, tvb, 40, 30, problems)
  local sack_item = tree:add(f.sack_bits, tvb:range(32, 8))
  local cum_psn = tvb:range(8, 4):uint()
  local ack_psn = tvb:range(12, 4):uint()
  local sack_off = tvb:range(24, 2):uint()
  local ranges = sack_ranges(cum_psn, sack_off, tvb:range(32, 4):uint(), tvb:range(36, 4):uint())
  if ranges ~= "" then sack_item:add(f.sack_ranges, ranges):set_generated() end

  local info = string.format("conn=0x%08x cum=%d", conn, cum_psn)
  if nack then
    info = info .. string.format(" nack=%d reason=%s", ack_psn, nack_reasons[reason] or "?")
    ack_psn_item:add_proto_expert_info(ex.nack, string.format("NACK of PSN %d (%s)", ack_psn,
                                                              nack_reasons[reason] or "no reason"))
  else
    info = info .. string.format(" ack=%d", ack_psn)
  end
  if ranges ~= "" then info = info .. " sack=" .. ranges end
  if names ~= "" then info = info .. " " .. names end
  return info
end

local function dissect_handshake(tvb, pinfo, tree, problems)
  local flags_item = tree:add(f.flags, tvb:range(1, 1))
  if tvb:range(1, 1):uint() ~= 0 then
    flags_item:add_proto_expert_info(ex.bad_flags, "CONNECT/ACCEPT flags must be 0")
    problems[#problems + 1] = "bad_flags"
  end
  tree:add(f.path_id, tvb:range(2, 2))
  local dst = add_conn_id(tree, f.dst_conn_id, tvb:range(4, 4))
  local src = add_conn_id(tree, f.src_conn_id, tvb:range(8, 4))
  tree:add(f.nonce, tvb:range(12, 4))
  tree:add(f.initial_psn, tvb:range(16, 4))
  local paths_item = tree:add(f.paths, tvb:range(20, 2))
  local mtu_item = tree:add(f.mtu, tvb:range(22, 2))
  local caps = tree:add(f.caps, tvb:range(24, 8))
  caps:add(f.cap_ordered, tvb:range(28, 4))
  caps:add(f.cap_hdr_csum, tvb:range(28, 4))
  local rwnd_item = tree:add(f.rwnd_pkts, tvb:range(32, 2))
  add_csum(tree, tvb, 40, 34, problems)
  tree:add(f.tx_ts, tvb:range(36, 4))

  local paths = tvb:range(20, 2):uint()
  local mtu = tvb:range(22, 2):uint()
  local rwnd = tvb:range(32, 2):uint()
  local function bad(item, why)
    item:add_proto_expert_info(ex.bad_handshake, why)
    problems[#problems + 1] = "bad_handshake"
  end
  if paths == 0 or paths > 256 then bad(paths_item, "Path count must be 1..256") end
  -- A DATA packet needs room for a payload after 20 + 8 + 32 bytes.
  if mtu < 61 + 28 then bad(mtu_item, "MTU too small for a DATA payload") end
  if rwnd == 0 then bad(rwnd_item, "Receive window is 0") end
  if src == 0 then bad(tree, "Source connection id is 0") end

  return string.format("src=0x%08x dst=0x%08x nonce=0x%08x psn0=%d paths=%d mtu=%d", src, dst,
                       tvb:range(12, 4):uint(), tvb:range(16, 4):uint(), paths, mtu)
end

local function dissect_probe(tvb, pinfo, tree, problems)
  local flags_item = tree:add(f.flags, tvb:range(1, 1))
  if tvb:range(1, 1):uint() ~= 0 then
    flags_item:add_proto_expert_info(ex.bad_flags, "PROBE flags must be 0")
    problems[#problems + 1] = "bad_flags"
  end
  tree:add(f.path_id, tvb:range(2, 2))
  local conn = add_conn_id(tree, f.dst_conn_id, tvb:range(4, 4))
  tree:add(f.nonce, tvb:range(8, 4))
  tree:add(f.tx_ts, tvb:range(12, 4))
  add_csum(tree, tvb, 20, 16, problems)
  add_reserved(tree, tvb, 18, problems)
  return string.format("conn=0x%08x path=%d", conn, tvb:range(2, 2):uint())
end

local function dissect_close(tvb, pinfo, tree, problems)
  local flags = tvb:range(1, 1):uint()
  local ft = tree:add(f.flags, tvb:range(1, 1))
  ft:add(f.close_ack, tvb:range(1, 1))
  local rsvd = ft:add(f.close_rsvd, tvb:range(1, 1))
  if bit.band(flags, 0xfe) ~= 0 then
    rsvd:add_proto_expert_info(ex.bad_flags, "Reserved CLOSE flag bits set")
    problems[#problems + 1] = "bad_flags"
  end
  tree:add(f.path_id, tvb:range(2, 2))
  local conn = add_conn_id(tree, f.dst_conn_id, tvb:range(4, 4))
  tree:add(f.nonce, tvb:range(8, 4))
  tree:add(f.next_psn, tvb:range(12, 4))
  add_csum(tree, tvb, 20, 16, problems)
  add_reserved(tree, tvb, 18, problems)
  local info = string.format("conn=0x%08x next_psn=%d", conn, tvb:range(12, 4):uint())
  if bit.band(flags, 0x01) ~= 0 then info = info .. " CLOSE_ACK" end
  return info
end

local function dissect_reset(tvb, pinfo, tree, problems)
  local reason = tvb:range(1, 1):uint()
  local ri = tree:add(f.reset_reason, tvb:range(1, 1))
  if reset_reasons[reason] == nil then
    ri:add_proto_expert_info(ex.bad_flags, "RESET reason out of range (1..4)")
    problems[#problems + 1] = "bad_flags"
  end
  tree:add(f.path_id, tvb:range(2, 2))
  local dst = add_conn_id(tree, f.dst_conn_id, tvb:range(4, 4))
  local src = add_conn_id(tree, f.src_conn_id, tvb:range(8, 4))
  tree:add(f.nonce, tvb:range(12, 4))
  add_csum(tree, tvb, 20, 16, problems)
  add_reserved(tree, tvb, 18, problems)
  local why = reset_reasons[reason] or "?"
  tree:add_proto_expert_info(ex.reset, "RESET: " .. why)
  return string.format("dst=0x%08x src=0x%08x reason=%s", dst, src, why)
end

-- ---------------------------------------------------------------------------
-- Top level

function srd.dissector(tvb, pinfo, root)
  local len = tvb:reported_len()
  pinfo.cols.protocol = "SRD"
  local tree = root:add(srd, tvb:range(0, math.min(tvb:len(), 40)))
  local problems = {}

  -- The decoder reads 4 bytes before it trusts version and type.
  if len < 4 then
    if len > 0 then
      tree:add(f.version, tvb:range(0, 1))
      tree:add(f.type, tvb:range(0, 1))
    end
    tree:add_proto_expert_info(ex.truncated, string.format("%d bytes, the smallest SRD packet has 20", len))
    pinfo.cols.info = "SRD [truncated]"
    return tvb:len()
  end

  local vt = tvb:range(0, 1):uint()
  local version = bit.rshift(vt, 4)
  local ptype = bit.band(vt, 0x0f)
  local vi = tree:add(f.version, tvb:range(0, 1))
  local ti = tree:add(f.type, tvb:range(0, 1))
  local name = type_names[ptype] or string.format("type %d", ptype)
  tree:append_text(", " .. name)

  if version ~= SRD_VERSION then
    vi:add_proto_expert_info(ex.bad_version, string.format("Version %d, expected 1", version))
    pinfo.cols.info = string.format("SRD version %d [bad version]", version)
    data_dissector:call(tvb:range(1):tvb(), pinfo, root)
    return tvb:len()
  end
  if type_names[ptype] == nil then
    ti:add_proto_expert_info(ex.unknown_type, string.format("Type %d is not one of 1..9", ptype))
    pinfo.cols.info = string.format("SRD type %d [unknown type]", ptype)
    data_dissector:call(tvb:range(1):tvb(), pinfo, root)
    return tvb:len()
  end

  local need = ctrl_len[ptype] or DATA_HDR_LEN
  if len < need then
    tree:add_proto_expert_info(ex.truncated, string.format("%s needs %d bytes, got %d", name, need, len))
    pinfo.cols.info = name .. " [truncated]"
    data_dissector:call(tvb:range(1):tvb(), pinfo, root)
    return tvb:len()
  end
  if tvb:len() < need then
    -- The packet is long enough; the capture's snapshot length cut it.
    tree:add(f.captured_len, tvb:len()):set_generated()
    tree:append_text(" [Packet size limited during capture]")
    pinfo.cols.info = name .. " [Packet size limited during capture]"
    return tvb:len()
  end
  if ctrl_len[ptype] ~= nil and len ~= need then
    tree:add_proto_expert_info(ex.bad_length, string.format("%s is %d bytes, got %d", name, need, len))
    problems[#problems + 1] = "bad_length"
  end

  local info
  if ptype == TYPE.DATA then
    info = dissect_data(tvb, pinfo, tree, root, problems)
  elseif ptype == TYPE.ACK or ptype == TYPE.NACK then
    info = dissect_ack(tvb, pinfo, tree, problems, ptype == TYPE.NACK)
  elseif ptype == TYPE.CONNECT or ptype == TYPE.ACCEPT then
    info = dissect_handshake(tvb, pinfo, tree, problems)
  elseif ptype == TYPE.PROBE or ptype == TYPE.PROBE_ACK then
    info = dissect_probe(tvb, pinfo, tree, problems)
  elseif ptype == TYPE.CLOSE then
    info = dissect_close(tvb, pinfo, tree, problems)
  else
    info = dissect_reset(tvb, pinfo, tree, problems)
  end
  if ctrl_len[ptype] ~= nil and len > need then
    data_dissector:call(tvb:range(need):tvb(), pinfo, root)
  end

  local text = string.format("%-9s %s", name, info)
  if #problems > 0 then text = text .. " [" .. table.concat(problems, ",") .. "]" end
  pinfo.cols.info = text
  return tvb:len()
end

-- Heuristic: version 1, a known type and a length that fits it; a set
-- hdr_csum must also verify. Off by default (preference), since 20- and
-- 40-byte UDP payloads starting 0x1N are not rare.
local function heuristic(tvb, pinfo, root)
  if not srd.prefs.heuristic then return false end
  local len = tvb:reported_len()
  if len < 20 or tvb:len() < 20 then return false end
  local vt = tvb:range(0, 1):uint()
  local ptype = bit.band(vt, 0x0f)
  if bit.rshift(vt, 4) ~= SRD_VERSION or type_names[ptype] == nil then return false end
  local need = ctrl_len[ptype]
  if need ~= nil then
    if len ~= need or tvb:len() < need then return false end
  else
    need = DATA_HDR_LEN
    if len <= need or tvb:len() < need then return false end
  end
  local got = tvb:range(csum_off[ptype], 2):uint()
  if got ~= 0 and got ~= srd_csum(tvb, need, csum_off[ptype]) then return false end
  srd.dissector(tvb, pinfo, root)
  pinfo.conversation = srd
  return true
end

register_port()
srd:register_heuristic("udp", heuristic)
