// The pages' sentences in the reader's language: the server puts the translations of the
// sentences these scripts mark with t("…") in <script type="application/json"
// id="holdless-words"> (console/i18n.py); an English page has none and shows the keys.
(function () {
  "use strict";
  const found = document.getElementById("holdless-words");
  const words = found ? JSON.parse(found.textContent || "{}") : {};
  // t("Wrapped up. You are {state}.", {state: "available"}): the sentence, fields filled.
  window.t = function (sentence, fields) {
    let said = Object.prototype.hasOwnProperty.call(words, sentence) ? words[sentence] : sentence;
    for (const [name, value] of Object.entries(fields || {})) {
      said = said.split("{" + name + "}").join(String(value));
    }
    return said;
  };
})();
