// Hardware profiles: the schema and the loader.
export { DISK_TYPES, profileSchema, type BiosSetting, type BurninThresholds, type DiskType, type Profile } from './schema.js';
export { defaultProfilesDir, listProfiles, loadProfile, loadProfileFile, parseProfile, type LoadedProfile } from './load.js';
