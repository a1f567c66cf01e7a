// Server → client events and close codes: kept as a name for existing importers; the contract
// itself (with the client ops) is in ws.ts.
export {
  ChannelEvent,
  UserEvent,
  ConnectionEvent,
  ServerEvent,
  CloseCodes,
  type CloseCode,
  type EventOf,
  type ServerEventType,
} from './ws.js';
