import { IBAN_LENGTHS } from "./iban-registry.js";

/** Luhn (mod 10) check over a string of digits only; false for anything else or fewer than 2 digits. */
export function luhnValid(digits: string): boolean {
  if (digits.length < 2 || !/^\d+$/.test(digits)) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * ISO 13616 IBAN check: a registered country code, that country's exact length, check digits 02-98
 * and the ISO 7064 mod-97-10 remainder 1. Spaces (print format) and lower case are accepted.
 */
export function ibanValid(iban: string): boolean {
  if (typeof iban !== "string" || iban.length > 64) return false;
  const compact = iban.replace(/ /g, "").toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(compact)) return false;
  if (IBAN_LENGTHS.get(compact.slice(0, 2)) !== compact.length) return false;
  const check = Number(compact.slice(2, 4));
  if (check < 2 || check > 98) return false;
  return mod97(compact.slice(4) + compact.slice(0, 4)) === 1;
}

/** Remainder mod 97 of the number formed by reading letters as 10..35, one digit at a time. */
function mod97(text: string): number {
  let remainder = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const value = code >= 65 ? code - 55 : code - 48;
    remainder = (remainder * (value >= 10 ? 100 : 10) + value) % 97;
  }
  return remainder;
}
