import { describe, expect, it } from "vitest";
import { detectPii, ibanValid, luhnValid, type PiiKind } from "../../host/features/index.js";

function kinds(text: string): PiiKind[] {
  return detectPii(text).kinds;
}

describe("luhnValid", () => {
  it.each([
    ["4111111111111111", true],
    ["5500000000000004", true],
    ["378282246310005", true],
    ["6011111111111117", true],
    ["79927398713", true],
    ["4111111111111112", false],
    ["79927398710", false],
    ["", false],
    ["7", false],
    ["4111 1111 1111 1111", false],
    ["41111111111111a1", false],
  ])("%j -> %s", (digits, valid) => {
    expect(luhnValid(digits)).toBe(valid);
  });
});

describe("ibanValid", () => {
  it.each([
    ["DE89 3704 0044 0532 0130 00", true],
    ["GB82WEST12345698765432", true],
    ["gb82 west 1234 5698 7654 32", true],
    ["NL91ABNA0417164300", true],
    ["FR1420041010050500013M02606", true],
    ["NO9386011117947", true],
    ["MT84MALT011000012345MTLCAST001S", true],
    ["DE88 3704 0044 0532 0130 00", false], // wrong check digits
    ["DE89 3704 0044 0532 0130 0", false], // one character short for Germany
    ["XX89 3704 0044 0532 0130 00", false], // no such country in the registry
    ["GB82-WEST-1234-5698-7654-32", false], // dashes are not the print format
    ["", false],
  ])("%j -> %s", (iban, valid) => {
    expect(ibanValid(iban)).toBe(valid);
  });
});

describe("detectPii positives", () => {
  it.each<[string, PiiKind]>([
    ["write to jane.doe@example.com today", "email"],
    ["cc: j_smith+news@mail.example.co.uk.", "email"],
    ["<ops-team@corp.io>", "email"],
    ["call +1 (555) 123-4567", "phone"],
    ["+44 20 7946 0958", "phone"],
    ["whatsapp +4915123456789", "phone"],
    ["+33 6 12 34 56 78", "phone"],
    ["(555) 123-4567", "phone"],
    ["ring 555-123-4567 after 2024", "phone"],
    ["555.123.4567", "phone"],
    ["1-800-555-1234", "phone"],
    ["020 7946 0958", "phone"],
    ["06 12 34 56 78", "phone"],
    ["0151 23456789", "phone"],
    ["Tel. 0612345678", "phone"],
    ["card 4111 1111 1111 1111 exp 12/27", "card"],
    ["4111-1111-1111-1111", "card"],
    ["4111111111111111", "card"],
    ["amex 3782 822463 10005", "card"],
    ["order 12 4111 1111 1111 1111", "card"],
    ["IBAN: DE89 3704 0044 0532 0130 00.", "iban"],
    ["pay to GB82WEST12345698765432 by Friday", "iban"],
    ["nl91abna0417164300", "iban"],
    ["host 192.168.1.20 is down", "ipv4"],
    ["from 8.8.8.8:53", "ipv4"],
    ["255.255.255.255", "ipv4"],
    ["link-local fe80::1ff:fe23:4567:890a", "ipv6"],
    ["2001:db8::8a2e:370:7334", "ipv6"],
    ["2001:0db8:85a3:0000:0000:8a2e:0370:7334", "ipv6"],
    ["mapped ::ffff:192.0.2.128", "ipv6"],
    ["[2001:db8::1]:443", "ipv6"],
    ["addr=fd12:3456:789a::1.", "ipv6"],
  ])("%j has %s", (text, kind) => {
    const result = detectPii(text);
    expect(result.found).toBe(true);
    expect(result.kinds).toContain(kind);
  });
});

describe("detectPii negatives", () => {
  it.each([
    ["plain years", "from 1999 to 2024, and again in 2025"],
    ["a run of years", "2023 2024 2025"],
    ["dates", "2024-01-15, 15.01.2024, 01/15/2024 and 2024.01.15"],
    ["prices", "it costs $1,299.99 or €1.299,00, was 12 345 678 last year"],
    ["thousands with spaces", "population 123 456 789"],
    ["version numbers", "v1.2.3, 10.0.19041.1234 and 1.2.3-beta.4"],
    ["a Luhn-failing card number", "4111 1111 1111 1112"],
    ["a Luhn-failing card without spaces", "4111111111111112"],
    ["zeros", "0000 0000 0000 0000"],
    ["an IBAN with a wrong check", "DE88 3704 0044 0532 0130 00"],
    ["an octet over 255", "999.1.1.1"],
    ["a fifth dotted part", "1.2.3.4.5"],
    ["a 256 octet", "10.0.0.256"],
    ["clock times", "meet at 12:30:45 or 09:15"],
    ["a MAC address", "00:1A:2B:3C:4D:5E"],
    ["C++ scopes", "std::vector<int> and Foo::bar()"],
    ["python slices", "a[1::2] and b[::-1] and c[100::200]"],
    ["loopback", "::1"],
    ["an ISBN", "ISBN 978-3-16-148410-0"],
    ["a Unix time", "created 1700000000"],
    ["an order number", "Order #1234567890"],
    ["small numbers", "sort 3 5 7 2 9 4 1 8 6 0 3 4 5 6"],
    ["decimals", "pi is 3.14159265358979 and e 2.718281828459045"],
    ["an at sign without a domain", "@alice and user@localhost"],
    ["empty", ""],
  ])("%s", (_name, text) => {
    expect(detectPii(text)).toEqual({ found: false, kinds: [] });
  });

  it("does not report the digits of an IBAN or a card as a phone number", () => {
    expect(kinds("DE89 3704 0044 0532 0130 00")).toEqual(["iban"]);
    expect(kinds("4111 1111 1111 1111")).toEqual(["card"]);
    expect(kinds("192.168.10.20")).toEqual(["ipv4"]);
  });
});

describe("detectPii", () => {
  it("lists every kind found, in a fixed order", () => {
    const text =
      "fe80::1ff:fe23:4567:890a 10.0.0.1 DE89370400440532013000 4111111111111111 +1 555 123 4567 a@b.io";
    expect(kinds(text)).toEqual(["email", "phone", "card", "iban", "ipv4", "ipv6"]);
  });

  it("only scans the first 64 KB", () => {
    const filler = "x ".repeat(32 * 1024);
    expect(kinds(`${filler}a@b.io`)).toEqual([]);
    expect(kinds(`a@b.io ${filler}`)).toEqual(["email"]);
  });

  it("returns nothing for a non-string", () => {
    expect(detectPii(undefined as unknown as string)).toEqual({ found: false, kinds: [] });
  });
});
