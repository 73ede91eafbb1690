// Public surface of DNS-SD discovery: the serve role advertises `_plugsrv._tcp`, `plugsrv fetch` browses for it.
export { startAdvertising, type AdvertiseOptions, type Advertiser } from './advertise.js';
export { browseBoxes, type BrowseOptions } from './browse.js';
export { advertiseScope, boxFromService, conflictName, instanceName, mdnsHostName, txtRecord, uniqueBoxes, API_PATH, SERVICE_TYPE, type BoxFacts, type DiscoveredBox } from './records.js';
