// Every sentence the console shows, in French (the default) and English. Kept to Latin-1 characters: tty1's font has no arrows.
import type { AddressKind } from './ipv4.js';
import type { ApplyWith, FailureReason, Lang, NetworkSettings, NetworkStatus } from './types.js';

/** A sentence resolved in the current language when drawn, so F2 re-translates what is already on screen. */
export type Text = (m: Messages) => string;

const plural = (n: number, one: string, many: string): string => (n > 1 ? many : one);

function settingsFr(s: NetworkSettings): string {
  return s.mode === 'dhcp' ? 'DHCP (adresse automatique)' : `adresse fixe ${s.address}/${s.prefix}, passerelle ${s.gateway}, DNS ${s.dns.join(', ')}`;
}
function settingsEn(s: NetworkSettings): string {
  return s.mode === 'dhcp' ? 'DHCP (automatic address)' : `fixed address ${s.address}/${s.prefix}, gateway ${s.gateway}, DNS ${s.dns.join(', ')}`;
}

const KIND_FR: Record<AddressKind, string> = {
  unicast: 'une adresse ordinaire',
  unspecified: "l'adresse nulle",
  loopback: 'une adresse de bouclage (127.x.x.x)',
  multicast: 'une adresse de multidiffusion (224 à 239)',
  reserved: 'une adresse réservée (240 et plus)',
  broadcast: "l'adresse de diffusion générale",
  linkLocal: 'une adresse locale au lien (169.254.x.x, attribuée faute de DHCP)',
  thisNetwork: 'une adresse réservée (0.x.x.x)',
};
const KIND_EN: Record<AddressKind, string> = {
  unicast: 'an ordinary address',
  unspecified: 'the null address',
  loopback: 'a loopback address (127.x.x.x)',
  multicast: 'a multicast address (224 to 239)',
  reserved: 'a reserved address (240 and above)',
  broadcast: 'the limited broadcast address',
  linkLocal: 'a link-local address (169.254.x.x, self-assigned when DHCP fails)',
  thisNetwork: 'a reserved address (0.x.x.x)',
};

const fr = {
  lang: 'fr' as Lang,
  title: 'plugsrv - console du boîtier',
  switchLang: 'F2 : English',
  languageItem: 'Language: English',
  keyboardItem: (name: string): string => `Clavier : ${name} (Entrée : suivant)`,
  statusLabel: { ok: 'OK', warn: 'ALERTE', fail: 'ÉCHEC' },

  keysLogin: 'Entrée : valider',
  keysMenu: 'Haut/Bas ou 1-7 : choisir   Entrée : ouvrir',
  keysForm: 'Tab ou Haut/Bas : champ   Entrée : suivant   Échap : retour',
  keysWait: 'Patientez...',
  keysConfirm: 'O : conserver   N : revenir aux réglages précédents',
  keysBack: 'Entrée ou Échap : retour au menu',
  keysSelfcheck: 'PgSuiv/PgPréc : page   R : relancer   Échap : retour',

  loginIntro: [
    'Console de mise en service du serveur de mises à jour.',
    'Saisissez le mot de passe du boîtier : à la première mise en service, le mot de passe temporaire remis avec le boîtier.',
  ],
  passwordLabel: 'Mot de passe',
  loginEmpty: 'Saisissez le mot de passe, puis Entrée.',
  checking: 'Vérification...',
  loginWrong: (left: number) =>
    `Mot de passe incorrect. Encore ${left} ${plural(left, 'essai', 'essais')} avant un blocage de 60 s.`,
  loginLocked: (seconds: number) => `Trop d'essais incorrects : console bloquée. Réessayez dans ${seconds} s.`,
  loginError: (detail: string) => `Vérification impossible : ${detail}`,
  lockedIdle: 'Console verrouillée après 5 minutes sans activité.',
  lockedByUser: 'Console verrouillée.',
  welcome: 'Connecté. Choisissez une rubrique.',

  menuTitle: 'Menu',
  menuNetwork: 'Réseau (DHCP ou adresse fixe)',
  menuSelfcheck: 'Autotest du site',
  menuEnrollment: 'Enrôlement auprès de la flotte',
  menuPassword: 'Changer le mot de passe du boîtier',
  menuLock: 'Verrouiller la console',
  summary: (s: NetworkStatus) =>
    `Interface ${s.iface} : ${s.addresses.length > 0 ? s.addresses.join(', ') : 'sans adresse IPv4'}` +
    `${s.gateway ? `, passerelle ${s.gateway}` : ''}, ${s.carrier ? 'lien actif' : 'LIEN COUPÉ (câble ?)'}`,
  summaryLoading: 'Lecture de l\'état du réseau...',

  networkTitle: (iface: string) => `Réseau - interface ${iface}`,
  fieldMode: 'Mode',
  modeDhcp: 'DHCP (automatique)',
  modeStatic: 'Adresse fixe',
  modeHint: 'Espace : changer',
  fieldAddress: 'Adresse IP',
  fieldPrefix: 'Préfixe',
  prefixHint: '24 ou 255.255.255.0',
  fieldGateway: 'Passerelle',
  fieldDns: 'DNS',
  dnsHint: '1 à 3, séparés par des virgules',
  apply: 'Appliquer',
  cancel: 'Annuler',
  fileNote: (path: string, how: ApplyWith) => `Fichier : ${path} (appliqué par ${how === 'networkd' ? 'systemd-networkd' : 'iproute2'}).`,
  fixErrors: (n: number) => `${n} ${plural(n, 'erreur', 'erreurs')} : corrigez ${plural(n, 'le champ marqué', 'les champs marqués')} ! puis Appliquer.`,
  networkLoadFailed: (detail: string) => `État du réseau illisible : ${detail}`,

  required: (label: string) => `${label} : obligatoire.`,
  ipFormat: (label: string, value: string) => `${label} : « ${value} » n'est pas une adresse IPv4 (quatre nombres séparés par des points, par ex. 192.168.1.20).`,
  ipOctet: (label: string, value: string, part: string) => `${label} : ${value} n'est pas valide, chaque nombre va de 0 à 255 (${part} est trop grand).`,
  ipLeadingZero: (label: string, value: string, part: string) => `${label} : ${value} n'est pas valide, pas de zéro en tête d'un nombre (« ${part} »).`,
  ipKind: (label: string, value: string, kind: AddressKind) => `${label} : ${value} est ${KIND_FR[kind]}, pas une adresse utilisable ici.`,
  prefixFormat: (value: string) => `Préfixe : « ${value} » n'est ni une longueur (8 à 30) ni un masque (par ex. 255.255.255.0).`,
  prefixRange: (prefix: number) => `Préfixe : /${prefix} n'est pas accepté, choisissez de 8 à 30 (24 pour un réseau de 254 adresses).`,
  prefixMask: 'Préfixe : ce masque n\'est pas valide (ses bits à 1 doivent se suivre, par ex. 255.255.255.0).',
  addressIsNetwork: (value: string, cidr: string, first: string, last: string) =>
    `Adresse IP : ${value} est l'adresse du réseau ${cidr} ; choisissez entre ${first} et ${last}.`,
  addressIsBroadcast: (value: string, cidr: string, first: string, last: string) =>
    `Adresse IP : ${value} est l'adresse de diffusion du réseau ${cidr} ; choisissez entre ${first} et ${last}.`,
  gatewayOutside: (value: string, cidr: string, first: string, last: string) =>
    `Passerelle : ${value} n'est pas dans le réseau ${cidr} de l'adresse ; elle doit être entre ${first} et ${last}.`,
  gatewayIsNetwork: (value: string, cidr: string) => `Passerelle : ${value} est l'adresse du réseau ${cidr}, pas celle d'un routeur.`,
  gatewayIsBroadcast: (value: string, cidr: string) => `Passerelle : ${value} est l'adresse de diffusion du réseau ${cidr}, pas celle d'un routeur.`,
  gatewayIsAddress: (value: string) => `Passerelle : ${value} est l'adresse du boîtier lui-même ; indiquez celle du routeur du site.`,
  dnsTooMany: 'DNS : trois serveurs au plus.',
  dnsDuplicate: (value: string) => `DNS : ${value} est indiqué deux fois.`,

  applyingTitle: 'Application des réglages réseau',
  stepWriting: (path: string) => `Écriture de ${path}`,
  stepApplying: (how: ApplyWith) => `Application (${how === 'networkd' ? 'systemd-networkd' : 'iproute2'})`,
  stepChecking: (gateway: string | undefined) => `Vérification du lien et de la passerelle${gateway ? ` ${gateway}` : ''}`,
  stepRestoring: 'Retour aux réglages précédents',
  secondsLeft: (s: number) => `encore ${s} s`,
  doNotUnplug: 'Ne débranchez pas le câble réseau pendant la vérification.',
  settings: settingsFr,

  confirmTitle: 'Les nouveaux réglages fonctionnent',
  gatewayAnswers: (gateway: string) => `La passerelle ${gateway} répond.`,
  keepQuestion: 'Conserver ces réglages ?  O : oui    N : non, revenir aux précédents',
  autoRevert: (s: number) => `Sans réponse, retour automatique aux réglages précédents dans ${s} s.`,
  working: 'Patientez...',

  resultKept: 'Réglages réseau appliqués et conservés.',
  resultNotKept: 'Réglages réseau NON appliqués.',
  reason: (r: FailureReason): string => {
    switch (r.code) {
      case 'gatewayUnreachable':
        return `Motif : la passerelle ${r.gateway} ne répond pas (aucune réponse ARP en ${r.seconds} s). Vérifiez son adresse auprès du service informatique.`;
      case 'linkDown':
        return `Motif : le lien réseau de ${r.iface} est coupé depuis ${r.seconds} s. Vérifiez le câble et le port du commutateur.`;
      case 'noAddress':
        return `Motif : ${r.iface} n'a pas reçu d'adresse en ${r.seconds} s. Y a-t-il un serveur DHCP sur ce réseau ?`;
      case 'noGateway':
        return `Motif : le DHCP n'a fourni aucune passerelle en ${r.seconds} s. Demandez au service informatique ou passez en adresse fixe.`;
      case 'applyFailed':
        return `Motif : l'application a échoué : ${r.detail}`;
      case 'dhcpUnsupported':
        return 'Motif : le DHCP exige console.applyWith: networkd ; ce boîtier applique avec iproute2. Choisissez une adresse fixe.';
    }
  },
  restored: 'Les réglages précédents sont rétablis.',
  nothingChanged: "Rien n'a été modifié.",
  restoreFailed: (detail: string) => `ATTENTION : le retour aux réglages précédents a échoué (${detail}). Recommencez la configuration ou contactez le support.`,
  revertDeclined: 'Vous avez choisi de revenir aux réglages précédents.',
  revertTimeout: (s: number) => `Pas de confirmation en ${s} s : retour aux réglages précédents.`,

  selfcheckTitle: 'Autotest du site',
  selfcheckRunning: 'Autotest en cours (DNS, HTTPS, NTP, réseau local, disque) : quelques secondes...',
  selfcheckFailed: (detail: string) => `L'autotest n'a pas pu s'exécuter : ${detail}`,
  selfcheckSummary: (label: string, ok: number, warn: number, fail: number, seconds: string) =>
    `Résultat : ${label} - ${ok} OK, ${warn} ${plural(warn, 'alerte', 'alertes')}, ${fail} ${plural(fail, 'échec', 'échecs')} en ${seconds} s`,
  page: (n: number, of: number) => `page ${n}/${of}`,
  toFix: 'À corriger :',
  allGood: 'Tout est conforme : le site laisse passer ce dont le boîtier a besoin.',

  enrollmentTitle: 'Enrôlement auprès de la flotte',
  loading: 'Lecture...',
  notEnrolled: 'État : non enrôlé.',
  notEnrolledHelp:
    "Ce boîtier n'est pas encore inscrit auprès de la flotte du constructeur. Il s'inscrit de lui-même une fois le réseau configuré et l'accès à Internet vérifié (voir Autotest du site).",
  enrolled: 'État : enrôlé.',
  deviceId: "Identifiant de l'appareil",
  fleetUrl: 'Flotte',
  enrolledAt: 'Depuis',
  enrollmentUnreadable: (detail: string) => `État illisible : ${detail}`,

  passwordTitle: 'Changer le mot de passe du boîtier',
  currentPassword: 'Mot de passe actuel',
  newPassword: 'Nouveau mot de passe',
  confirmPassword: 'Confirmation',
  change: 'Changer',
  passwordRules: (min: number) => `Au moins ${min} caractères. Il remplace le mot de passe actuel (ou temporaire) de ce boîtier.`,
  pwCurrentEmpty: 'Saisissez le mot de passe actuel.',
  pwTooShort: (min: number) => `Le nouveau mot de passe doit compter au moins ${min} caractères.`,
  pwTooLong: (max: number) => `Le nouveau mot de passe doit compter au plus ${max} caractères.`,
  pwMismatch: 'La confirmation ne correspond pas au nouveau mot de passe.',
  pwSame: "Le nouveau mot de passe doit être différent de l'actuel.",
  pwWrongCurrent: (left: number) => `Mot de passe actuel incorrect. Encore ${left} ${plural(left, 'essai', 'essais')} avant un blocage de 60 s.`,
  pwChanged: 'Mot de passe changé. Utilisez-le désormais pour ouvrir la console.',
  pwChangeFailed: (detail: string) => `Le mot de passe n'a pas été changé : ${detail}`,
};

export type Messages = typeof fr;

const en: Messages = {
  lang: 'en',
  title: 'plugsrv - box console',
  switchLang: 'F2: Français',
  languageItem: 'Langue : français',
  keyboardItem: (name: string): string => `Keyboard: ${name} (Enter: next)`,
  statusLabel: { ok: 'OK', warn: 'WARN', fail: 'FAIL' },

  keysLogin: 'Enter: confirm',
  keysMenu: 'Up/Down or 1-7: choose   Enter: open',
  keysForm: 'Tab or Up/Down: field   Enter: next   Esc: back',
  keysWait: 'Please wait...',
  keysConfirm: 'Y: keep   N: go back to the previous settings',
  keysBack: 'Enter or Esc: back to the menu',
  keysSelfcheck: 'PgDn/PgUp: page   R: run again   Esc: back',

  loginIntro: [
    'Set-up console of the update server.',
    "Type the box's password: on first set-up, the temporary password delivered with the box.",
  ],
  passwordLabel: 'Password',
  loginEmpty: 'Type the password, then Enter.',
  checking: 'Checking...',
  loginWrong: (left) => `Wrong password. ${left} more ${plural(left, 'try', 'tries')} before a 60 s lockout.`,
  loginLocked: (seconds) => `Too many wrong passwords: console locked. Try again in ${seconds} s.`,
  loginError: (detail) => `Cannot check the password: ${detail}`,
  lockedIdle: 'Console locked after 5 minutes without activity.',
  lockedByUser: 'Console locked.',
  welcome: 'Signed in. Choose an item.',

  menuTitle: 'Menu',
  menuNetwork: 'Network (DHCP or fixed address)',
  menuSelfcheck: 'Site self-check',
  menuEnrollment: 'Fleet enrollment',
  menuPassword: "Change the box's password",
  menuLock: 'Lock the console',
  summary: (s) =>
    `Interface ${s.iface}: ${s.addresses.length > 0 ? s.addresses.join(', ') : 'no IPv4 address'}` +
    `${s.gateway ? `, gateway ${s.gateway}` : ''}, ${s.carrier ? 'link up' : 'LINK DOWN (cable?)'}`,
  summaryLoading: 'Reading the network state...',

  networkTitle: (iface) => `Network - interface ${iface}`,
  fieldMode: 'Mode',
  modeDhcp: 'DHCP (automatic)',
  modeStatic: 'Fixed address',
  modeHint: 'Space: change',
  fieldAddress: 'IP address',
  fieldPrefix: 'Prefix',
  prefixHint: '24 or 255.255.255.0',
  fieldGateway: 'Gateway',
  fieldDns: 'DNS',
  dnsHint: '1 to 3, separated by commas',
  apply: 'Apply',
  cancel: 'Cancel',
  fileNote: (path, how) => `File: ${path} (applied by ${how === 'networkd' ? 'systemd-networkd' : 'iproute2'}).`,
  fixErrors: (n) => `${n} ${plural(n, 'error', 'errors')}: fix the ${plural(n, 'field', 'fields')} marked ! then Apply.`,
  networkLoadFailed: (detail) => `Cannot read the network state: ${detail}`,

  required: (label) => `${label}: required.`,
  ipFormat: (label, value) => `${label}: "${value}" is not an IPv4 address (four numbers separated by dots, e.g. 192.168.1.20).`,
  ipOctet: (label, value, part) => `${label}: ${value} is not valid, each number goes from 0 to 255 (${part} is too big).`,
  ipLeadingZero: (label, value, part) => `${label}: ${value} is not valid, no leading zero in a number ("${part}").`,
  ipKind: (label, value, kind) => `${label}: ${value} is ${KIND_EN[kind]}, not an address usable here.`,
  prefixFormat: (value) => `Prefix: "${value}" is neither a length (8 to 30) nor a netmask (e.g. 255.255.255.0).`,
  prefixRange: (prefix) => `Prefix: /${prefix} is not accepted, choose 8 to 30 (24 for a network of 254 addresses).`,
  prefixMask: 'Prefix: this netmask is not valid (its 1 bits must be contiguous, e.g. 255.255.255.0).',
  addressIsNetwork: (value, cidr, first, last) => `IP address: ${value} is the network address of ${cidr}; choose from ${first} to ${last}.`,
  addressIsBroadcast: (value, cidr, first, last) => `IP address: ${value} is the broadcast address of ${cidr}; choose from ${first} to ${last}.`,
  gatewayOutside: (value, cidr, first, last) => `Gateway: ${value} is not in the address's network ${cidr}; it must be from ${first} to ${last}.`,
  gatewayIsNetwork: (value, cidr) => `Gateway: ${value} is the network address of ${cidr}, not a router's.`,
  gatewayIsBroadcast: (value, cidr) => `Gateway: ${value} is the broadcast address of ${cidr}, not a router's.`,
  gatewayIsAddress: (value) => `Gateway: ${value} is the box's own address; give the site router's address.`,
  dnsTooMany: 'DNS: three servers at most.',
  dnsDuplicate: (value) => `DNS: ${value} is given twice.`,

  applyingTitle: 'Applying the network settings',
  stepWriting: (path) => `Writing ${path}`,
  stepApplying: (how) => `Applying (${how === 'networkd' ? 'systemd-networkd' : 'iproute2'})`,
  stepChecking: (gateway) => `Checking the link and the gateway${gateway ? ` ${gateway}` : ''}`,
  stepRestoring: 'Going back to the previous settings',
  secondsLeft: (s) => `${s} s left`,
  doNotUnplug: 'Do not unplug the network cable during the check.',
  settings: settingsEn,

  confirmTitle: 'The new settings work',
  gatewayAnswers: (gateway) => `The gateway ${gateway} answers.`,
  keepQuestion: 'Keep these settings?  Y: yes    N: no, go back to the previous ones',
  autoRevert: (s) => `Without an answer, back to the previous settings in ${s} s.`,
  working: 'Please wait...',

  resultKept: 'Network settings applied and kept.',
  resultNotKept: 'Network settings NOT applied.',
  reason: (r) => {
    switch (r.code) {
      case 'gatewayUnreachable':
        return `Reason: the gateway ${r.gateway} does not answer (no ARP reply in ${r.seconds} s). Check its address with the IT department.`;
      case 'linkDown':
        return `Reason: the network link of ${r.iface} has been down for ${r.seconds} s. Check the cable and the switch port.`;
      case 'noAddress':
        return `Reason: ${r.iface} got no address in ${r.seconds} s. Is there a DHCP server on this network?`;
      case 'noGateway':
        return `Reason: DHCP gave no gateway in ${r.seconds} s. Ask the IT department or use a fixed address.`;
      case 'applyFailed':
        return `Reason: applying failed: ${r.detail}`;
      case 'dhcpUnsupported':
        return 'Reason: DHCP needs console.applyWith: networkd; this box applies with iproute2. Choose a fixed address.';
    }
  },
  restored: 'The previous settings are back.',
  nothingChanged: 'Nothing was changed.',
  restoreFailed: (detail) => `WARNING: going back to the previous settings failed (${detail}). Set the network up again or call support.`,
  revertDeclined: 'You chose to go back to the previous settings.',
  revertTimeout: (s) => `No confirmation in ${s} s: back to the previous settings.`,

  selfcheckTitle: 'Site self-check',
  selfcheckRunning: 'Self-check running (DNS, HTTPS, NTP, LAN, disk): a few seconds...',
  selfcheckFailed: (detail) => `The self-check could not run: ${detail}`,
  selfcheckSummary: (label, ok, warn, fail, seconds) =>
    `Result: ${label} - ${ok} ok, ${warn} ${plural(warn, 'warning', 'warnings')}, ${fail} ${plural(fail, 'failure', 'failures')} in ${seconds} s`,
  page: (n, of) => `page ${n}/${of}`,
  toFix: 'To fix:',
  allGood: 'Everything is compliant: the site lets through what the box needs.',

  enrollmentTitle: 'Fleet enrollment',
  loading: 'Reading...',
  notEnrolled: 'State: not enrolled.',
  notEnrolledHelp:
    "This box is not registered with the carmaker's fleet yet. It registers by itself once the network is set up and internet access is verified (see Site self-check).",
  enrolled: 'State: enrolled.',
  deviceId: 'Device id',
  fleetUrl: 'Fleet',
  enrolledAt: 'Since',
  enrollmentUnreadable: (detail) => `Cannot read the state: ${detail}`,

  passwordTitle: "Change the box's password",
  currentPassword: 'Current password',
  newPassword: 'New password',
  confirmPassword: 'Confirm',
  change: 'Change',
  passwordRules: (min) => `At least ${min} characters. It replaces this box's current (or temporary) password.`,
  pwCurrentEmpty: 'Type the current password.',
  pwTooShort: (min) => `The new password must have at least ${min} characters.`,
  pwTooLong: (max) => `The new password must have at most ${max} characters.`,
  pwMismatch: 'The confirmation does not match the new password.',
  pwSame: 'The new password must differ from the current one.',
  pwWrongCurrent: (left) => `Wrong current password. ${left} more ${plural(left, 'try', 'tries')} before a 60 s lockout.`,
  pwChanged: 'Password changed. Use it from now on to open the console.',
  pwChangeFailed: (detail) => `The password was not changed: ${detail}`,
};

export const MESSAGES: Record<Lang, Messages> = { fr, en };

export function messagesFor(lang: Lang): Messages {
  return MESSAGES[lang];
}
