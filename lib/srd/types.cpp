// SPDX-License-Identifier: BSD-3-Clause
// Names of the transport's enums, for logs, dumps and the CLI.
#include "srd/endpoint.h"
#include "srd/types.h"

namespace spray::srd {

const char* to_string(ConnState s) noexcept {
  switch (s) {
    case ConnState::kClosed: return "CLOSED";
    case ConnState::kConnecting: return "CONNECTING";
    case ConnState::kEstablished: return "ESTABLISHED";
    case ConnState::kClosing: return "CLOSING";
    case ConnState::kFailed: return "FAILED";
  }
  return "?";
}

const char* to_string(FailReason r) noexcept {
  switch (r) {
    case FailReason::kNone: return "NONE";
    case FailReason::kUnreachable: return "UNREACHABLE";
    case FailReason::kUnresponsive: return "UNRESPONSIVE";
    case FailReason::kReset: return "RESET";
    case FailReason::kClosed: return "CLOSED";
  }
  return "?";
}

std::string failure_text(FailReason r, const char* hint) {
  std::string s = to_string(r);
  if (hint != nullptr) s.append(": ").append(hint);
  return s;
}

const char* to_string(PathState s) noexcept {
  switch (s) {
    case PathState::kActive: return "ACTIVE";
    case PathState::kSuspect: return "SUSPECT";
    case PathState::kQuarantined: return "QUARANTINED";
    case PathState::kProbing: return "PROBING";
  }
  return "?";
}

const char* to_string(EventKind k) noexcept {
  switch (k) {
    case EventKind::kConnected: return "connected";
    case EventKind::kAccepted: return "accepted";
    case EventKind::kConnectionFailed: return "connection_failed";
    case EventKind::kClosed: return "closed";
    case EventKind::kDelivered: return "delivered";
    case EventKind::kSendFailed: return "send_failed";
    case EventKind::kMessage: return "message";
    case EventKind::kAllPathsImpaired: return "all_paths_impaired";
  }
  return "?";
}

const char* to_string(SendStatus s) noexcept {
  switch (s) {
    case SendStatus::kOk: return "ok";
    case SendStatus::kNoConnection: return "no_connection";
    case SendStatus::kClosing: return "closing";
    case SendStatus::kEmpty: return "empty";
    case SendStatus::kTooLarge: return "too_large";
    case SendStatus::kTooManyIov: return "too_many_iov";
    case SendStatus::kQueueFull: return "queue_full";
  }
  return "?";
}

}  // namespace spray::srd
