// Test helper run as a script: browses for _plugsrv._tcp with bonjour-service and prints {"event":"up"|"down","name":...} lines until killed.
import Bonjour from 'bonjour-service';

const bonjour = new Bonjour({}, (err: Error) => console.log(JSON.stringify({ event: 'error', message: err.message })));
const browser = bonjour.find({ type: 'plugsrv', protocol: 'tcp' });
browser.on('up', (s) => console.log(JSON.stringify({ event: 'up', name: s.name, port: s.port })));
// 'down' comes from a goodbye packet (TTL 0); services that just go silent stay "up" until their TTL runs out.
browser.on('down', (s) => console.log(JSON.stringify({ event: 'down', name: s.name })));
console.log(JSON.stringify({ event: 'watching' }));
process.once('SIGTERM', () => bonjour.destroy(() => process.exit(0)));
