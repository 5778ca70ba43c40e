// Gongyi: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
})();
