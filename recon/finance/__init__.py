"""Finance: the provider's statements checked against the contract and the store
(:mod:`recon.finance.verify`, read by :mod:`recon.finance.statements`), and the
payment schedule of 第七条 on China's working days (:mod:`recon.finance.schedule`).
The reports live in :mod:`reports.finance`; the commands in
:mod:`recon.finance.cli`.
"""
