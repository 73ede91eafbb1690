// Public surface of the device hub.
export { Hub, GOING_AWAY, type HubDeps } from './hub.js';
export { checkPeer, decideAdmission, type PeerCertificate, type AdmissionDecision } from './admission.js';
export { LiveState, type LiveView, type Heartbeat } from './live-state.js';
export { DeviceConnection } from './connection.js';
