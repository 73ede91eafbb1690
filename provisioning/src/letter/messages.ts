// Pure: the dealer letter's sentences in French and English, as plain text (never markup: the renderers escape
// everything). Menu names and terms are the console's own (agent/src/console/i18n.ts), so what the letter says to
// choose is what the screen shows.

export type LetterLang = 'fr' | 'en';

/** A run of text; `code` is shown in a fixed-width font (an address, a key). */
export type Inline = string | { readonly code: string };
export type Sentence = readonly Inline[];

export interface LetterFacts {
  readonly dealerCode: string;
  readonly site: string;
  readonly contactEmail: string | null;
  readonly serial: string;
  readonly unitId: string;
  /** Already formatted for the language. */
  readonly producedOn: string;
  readonly supportContact: string | null;
  /** Whether the password has the generator's form (16 lowercase letters): a precise reading hint. */
  readonly generatedForm: boolean;
}

export interface LetterMessages {
  readonly lang: LetterLang;
  readonly documentTitle: string;
  readonly title: string;
  readonly confidential: string;
  readonly recipientTitle: string;
  readonly fields: readonly (readonly [string, string])[];
  readonly intro: readonly Sentence[];
  readonly installTitle: string;
  readonly steps: readonly Sentence[];
  readonly passwordTitle: string;
  readonly passwordHint: readonly Sentence[];
  readonly securityTitle: string;
  readonly security: readonly Sentence[];
  readonly support: Sentence | null;
}

const STATUS_PORT = 8080;
const MIN_NEW_PASSWORD = 10;

const MONTHS: Record<LetterLang, readonly string[]> = {
  fr: ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'],
  en: ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'],
};

/** "15 janvier 2026" / "15 January 2026" from the calendar day of an ISO date-time as written; null if it is not one. */
export function formatLetterDate(iso: string, lang: LetterLang): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ]|$)/.exec(iso);
  if (!m || Number.isNaN(Date.parse(iso))) return null;
  const month = MONTHS[lang][Number(m[2]) - 1];
  if (month === undefined) return null;
  const day = Number(m[3]);
  return `${lang === 'fr' && day === 1 ? '1er' : String(day)} ${month} ${m[1]}`;
}

function fr(f: LetterFacts): LetterMessages {
  const fields: [string, string][] = [
    ['Code de la concession', f.dealerCode],
    ['Site', f.site],
  ];
  if (f.contactEmail) fields.push(['Contact', f.contactEmail]);
  fields.push(['Numéro de série du boîtier', f.serial], ['Identifiant du boîtier', f.unitId], ['Date de production', f.producedOn]);
  return {
    lang: 'fr',
    documentTitle: `plugsrv - mise en service du boîtier ${f.serial}`,
    title: 'Votre serveur de mises à jour plugsrv : mise en service',
    confidential: 'Courrier confidentiel : il contient un mot de passe.',
    recipientTitle: 'Destinataire et boîtier',
    fields,
    intro: [
      ['Ce courrier accompagne le serveur de mises à jour plugsrv destiné à votre site. Il contient le mot de passe temporaire nécessaire à sa mise en service.'],
      ["Vérifiez que le numéro de série ci-dessus est bien celui de l'étiquette collée sur le carton du boîtier."],
    ],
    installTitle: 'Installation',
    steps: [
      ['Branchez le boîtier sur le réseau local de la concession (câble Ethernet), puis sur le secteur.'],
      ['Pour le premier démarrage, branchez-y un écran et un clavier.'],
      ['Allumez le boîtier : il démarre et affiche sa console à l\'écran (la touche ', { code: 'F2' }, ' fait passer la console du français à l\'anglais, et inversement).'],
      ['Connectez-vous avec le mot de passe temporaire ci-dessous.'],
      ['Si votre site l\'exige (pas de serveur DHCP, adresse imposée), réglez le réseau dans la rubrique « Réseau (DHCP ou adresse fixe) » : DHCP ou adresse fixe, avec les valeurs fournies par votre service informatique.'],
      [`Changez le mot de passe dans la rubrique « Changer le mot de passe du boîtier » (au moins ${MIN_NEW_PASSWORD} caractères) et conservez le nouveau en lieu sûr.`],
      ["Vous pouvez ensuite débrancher l'écran et le clavier. Laissez le boîtier allumé et branché au réseau : il télécharge les paquets pendant la nuit."],
      ['La page d\'état, ', { code: `http://<adresse du boîtier>:${STATUS_PORT}/` }, ', ouverte depuis un poste du réseau local, indique quand le boîtier est prêt. Son adresse est affichée par la console.'],
    ],
    passwordTitle: 'Mot de passe temporaire de la console',
    passwordHint: f.generatedForm
      ? [
          ['Il ne contient que des lettres minuscules, sans chiffre : aucune confusion possible entre 0 et O, ni entre 1, l et I.'],
          ['Il compte 16 lettres, sans espace ni tiret.'],
        ]
      : [['Saisissez-le exactement tel qu\'il est imprimé, en respectant majuscules, minuscules et signes.']],
    securityTitle: 'Sécurité',
    security: [
      ['Gardez ce courrier confidentiel : ce mot de passe n\'existe que sur ce courrier.'],
      ['Il ouvre uniquement la console locale du boîtier (l\'écran et le clavier branchés dessus) ; il ne donne aucun accès à distance.'],
      ['Changez-le dès la première connexion.'],
      ['Détruisez ce courrier une fois le mot de passe changé.'],
    ],
    support: f.supportContact ? [`Assistance : ${f.supportContact}`] : null,
  };
}

function en(f: LetterFacts): LetterMessages {
  const fields: [string, string][] = [
    ['Dealer code', f.dealerCode],
    ['Site', f.site],
  ];
  if (f.contactEmail) fields.push(['Contact', f.contactEmail]);
  fields.push(['Box serial number', f.serial], ['Box unit id', f.unitId], ['Produced on', f.producedOn]);
  return {
    lang: 'en',
    documentTitle: `plugsrv - setting up box ${f.serial}`,
    title: 'Your plugsrv update server: setting it up',
    confidential: 'Confidential letter: it contains a password.',
    recipientTitle: 'Recipient and box',
    fields,
    intro: [
      ['This letter comes with the plugsrv update server for your site. It contains the temporary password you need to set it up.'],
      ["Check that the serial number above is the one on the label of the box's packaging."],
    ],
    installTitle: 'Installation',
    steps: [
      ["Connect the box to the dealership's local network (Ethernet cable), then to mains power."],
      ['For the first start, plug a screen and a keyboard into it.'],
      ['Switch the box on: it starts and shows its console on the screen (the ', { code: 'F2' }, ' key switches the console between French and English).'],
      ['Log in with the temporary password below.'],
      ['If your site needs it (no DHCP server, an assigned address), set the network in the "Network (DHCP or fixed address)" item: DHCP or a fixed (static) address, with the values your IT department gives you.'],
      [`Change the password in the "Change the box's password" item (at least ${MIN_NEW_PASSWORD} characters) and keep the new one somewhere safe.`],
      ['You can then unplug the screen and the keyboard. Leave the box on and connected to the network: it downloads the packages overnight.'],
      ['The status page, ', { code: `http://<the box's address>:${STATUS_PORT}/` }, ', opened from a computer on the local network, shows when the box is ready. The console shows the box\'s address.'],
    ],
    passwordTitle: 'Temporary console password',
    passwordHint: f.generatedForm
      ? [
          ['It has lowercase letters only, no digits: 0 and O, or 1, l and I, cannot be confused.'],
          ['It has 16 letters, with no space or hyphen.'],
        ]
      : [['Type it exactly as printed, with the same upper and lower case letters and signs.']],
    securityTitle: 'Security',
    security: [
      ['Keep this letter confidential: this password exists only in this letter.'],
      ["It only opens the box's local console (the screen and keyboard plugged into it); it gives no remote access."],
      ['Change it at your first login.'],
      ['Destroy this letter once the password is changed.'],
    ],
    support: f.supportContact ? [`Support: ${f.supportContact}`] : null,
  };
}

export function letterMessages(lang: LetterLang, facts: LetterFacts): LetterMessages {
  return lang === 'fr' ? fr(facts) : en(facts);
}
